// The chart page: select a code to light up its evidence; keyboard shortcuts;
// ICD-10-CM search. No framework and no build step.
(function () {
  "use strict";
  const codes = Array.from(document.querySelectorAll("li.code"));
  let current = -1;

  function select(index) {
    if (index < 0 || index >= codes.length) return;
    current = index;
    const wanted = codes[index].dataset.suggestion;
    codes.forEach((row, i) => row.classList.toggle("selected", i === index));
    let first = null;
    document.querySelectorAll("#note span.ev").forEach((span) => {
      const lit = span.dataset.codes.split(" ").includes(wanted);
      span.classList.toggle("hl", lit);
      if (lit && first === null) first = span;
    });
    if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
    codes[index].focus({ preventScroll: true });
  }

  codes.forEach((row, index) => {
    row.addEventListener("click", (event) => {
      if (event.target.closest("form")) return; // a button or field in the row
      select(index);
    });
  });

  function submitIn(row, selector) {
    const form = row && row.querySelector(selector);
    if (!form) return;
    const required = form.querySelector("select[required], input[name=code][required]");
    if (required && !required.value) { required.focus(); return; }
    form.requestSubmit();
  }

  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const row = codes[current];
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(Math.max(0, current - 1));
    else if (event.key === "a") submitIn(row, "form:has(input[value=accept])");
    else if (event.key === "r") submitIn(row, "form.reject");
    else if (event.key === "e") submitIn(row, "form.edit");
    else if (event.key === "s") { const f = document.getElementById("submit-form"); if (f) f.requestSubmit(); }
    else if (event.key === "/") { const s = document.getElementById("code-search"); if (s) s.focus(); }
    else return;
    event.preventDefault();
  });

  const search = document.getElementById("code-search");
  const results = document.getElementById("search-results");
  const addCode = document.getElementById("add-code");
  let timer = null;
  if (search) {
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim();
        results.replaceChildren();
        if (!q) return;
        const response = await fetch("/codes/search?q=" + encodeURIComponent(q), {
          headers: { Accept: "application/json" }, credentials: "same-origin",
        });
        if (!response.ok) return;
        for (const hit of await response.json()) {
          const item = document.createElement("li");
          item.className = "hit";
          item.textContent = hit.code + " " + hit.title; // text, never HTML
          item.addEventListener("click", () => { addCode.value = hit.code; results.replaceChildren(); });
          results.append(item);
        }
      }, 150);
    });
  }
  if (codes.length) select(0);
})();
