"""Where a note holds clinical values, which are never PHI.

``protected_regions`` returns the character ranges of vital signs, murmur and
strength grades, scores, doses and amounts, lab values, ratios and times,
durations and relative days, emergency numbers and section headers. The
``clinical_values`` span filter drops any span that lies wholly inside them,
so a blood pressure of ``116/84`` is never tagged as a phone number, nor a
``2/6`` murmur shifted as a date.

Each pattern needs its context (a label, a unit, a grade's denominator):
a bare ``3/14`` stays a date and a bare ``116`` stays whatever a detector says.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NUMBER = r"\d{1,4}(?:[.,]\d+)?"
_VITAL_LABEL = (
    r"(?:bp|b/p|nibp|abp|sbp|dbp|blood\s+pressure|hr|heart\s+rate|pulse|p|rr|resp(?:irations?)?"
    r"|respiratory\s+rate|t|temp(?:erature)?|tmax|tm|tc|spo2|sao2|o2\s*sats?|o2\s+saturation"
    r"|sats?|pox|fio2|map|cvp|pap|icp|etco2|wt|weight|ht|height|bmi|glucose|bg|fsbg|fs"
    r"|fingerstick|peep|tv|vt|ps|uop|i/o|ins|outs|intake|output)"
)
# No "pt": in notes it is the patient ("pt 92 yo") far more often than prothrombin time.
_LAB_LABEL = (
    r"(?:na|k|cl|co2|hco3|bicarb|bun|cr|creat(?:inine)?|glu|hgb|hb|hct|wbc|plts?|platelets|inr"
    r"|ptt|mg|ca|phos|ast|alt|alk\s*phos|alp|t\.?\s*bili|d\.?\s*bili|alb(?:umin)?|lactate"
    r"|lac|trop(?:onin)?(?:\s*[it])?|bnp|a1c|hba1c|ldl|hdl|tg|tsh|ph|pco2|po2|pao2|paco2|be"
    r"|esr|crp|ck|cpk|lipase|amylase|ammonia|nh3|osm|ua|sg|ldh|ferritin|psa|cea|afp|ca-?125)"
)
_UNIT = (
    r"(?:mg|mcg|ug|µg|g|gm|grams?|kg|mg/kg|mcg/kg/min|mcg/kg|mcg/min|mg/hr|mg/h|units?/hr"
    r"|ml|cc|l|liters?|units?|iu|meq|mmol|mmol/l|mg/dl|g/dl|tabs?|tablets?|caps?|capsules?"
    r"|puffs?|drops?|sprays?|patch(?:es)?|ml/hr|cc/hr|ml/kg/hr|l/min|lpm|mmhg|cmh2o|cm|mm"
    r"|mm3|bpm|breaths?|beats?|mg/m2|gy|cgy|mci|french|fr|gauge|ga)"
)
_SCORE_LABEL = (
    r"(?:gcs|apgars?|nihss|mmse|moca|phq-?9|gad-?7|cha2ds2-?vasc|has-?bled|meld|asa|ecog|nyha"
    r"|killip|timi|wells|curb-?65|braden|morse|rass|cpot|cam-?icu|pain|bishop|gleason"
    r"|karnofsky|glasgow(?:\s+coma\s+scale)?)"
)
_PATTERNS = [
    # "BP 116/84", "HR: 97", "T 97.9 F", "SpO2 98% RA", "weight of 82 kg".
    rf"\b{_VITAL_LABEL}\s*(?:[:=]|was|is|of|at|-)?\s*[<>~]?{_NUMBER}"
    rf"(?:\s*(?:/|-|to)\s*{_NUMBER})?(?:\s*(?:%|°\s*[cf]?|[cf]\b|{_UNIT}\b))?",
    # A run of vitals after a label: "VS: 97.9 116/84 88 18 98%RA".
    r"\b(?:vs|vitals?|v/s)\s*[:=-]?\s*(?:[\d./%]+\s*(?:ra|nc|l|bpm|mmhg|f|c)?[,;\s]+){1,8}",
    # Lab values: "Na 135", "K 4.1", "Cr 1.2", "Hgb 9.8/28.1", an ABG "7.32/45/80".
    rf"\b{_LAB_LABEL}\s*[:=]?\s*(?:of\s+)?[<>]?{_NUMBER}(?:\s*/\s*{_NUMBER})*",
    r"\b7\.\d{1,2}\s*/\s*\d{2,3}\s*/\s*\d{2,3}(?:\s*/\s*\d{1,3})?\b",
    # Murmur grades: "2/6", "II/VI", "grade 3 of 6".
    r"\b[1-6]\s*/\s*6\b(?=[^.\n]{0,40}\b(?:murmur|sem|systolic|diastolic|holosystolic|"
    r"ejection|rub|gallop|regurg))",
    r"\b(?:murmur|sem|systolic|grade)\b[^.\n]{0,30}?\b[1-6]\s*/\s*6\b",
    r"\b(?:i|ii|iii|iv|v|vi)\s*/\s*vi\b",
    r"\bgrade\s+[1-6]\s+(?:of|out\s+of)\s+6\b",
    # Strength, reflexes and pulses: "5/5 strength", "strength 4+/5", "2+ reflexes".
    r"\b[0-5][+-]?\s*/\s*5\b(?=[^.\n]{0,40}\b(?:strength|motor|power|muscle|grip|flexion|"
    r"extension|abduction|bilateral|bilaterally|throughout|extremit|limbs?))",
    r"\b(?:strength|motor|power|grip|flexion|extension|weakness|paresis)\b[^.\n]{0,30}?"
    r"\b[0-5][+-]?\s*/\s*5\b",
    r"\b[0-4]\+(?=\s*(?:and\s+symmetric|symmetric|reflex|dtr|pulse|edema|pitting|bilat))",
    # Scores: "GCS 15", "APGAR 8/9", "APGARs 8 and 9", "pain 5/10", "NIHSS of 4".
    rf"\b{_SCORE_LABEL}\s*(?:score|scores)?\s*(?:of|is|was|=|:)?\s*\d{{1,2}}"
    r"(?:\s*(?:/|and|,|-)\s*\d{1,2})?(?:\s*/\s*10)?",
    r"\b\d{1,2}\s*/\s*10\b(?=[^.\n]{0,30}\b(?:pain|severity|scale))",
    r"\b(?:a\s*&?\s*o|aa?ox|ox)\s*x?\s*[1-4]\b",
    # Doses and amounts: "5 mg", "2 units", "10-20 mEq", "20/12.5 mg", "10/10 mmHg".
    rf"\b{_NUMBER}(?:\s*(?:-|to|/)\s*{_NUMBER})*\s*{_UNIT}\b",
    rf"\b{_NUMBER}\s*%",
    # Ratios and clock times: "1:1", "1:10,000", "10:30".
    r"\b\d{1,3}(?:,\d{3})*\s*:\s*\d{1,3}(?:,\d{3})*\b",
    # Durations, frequencies and relative days: "3 days", "x 2 weeks", "POD 3", "today".
    # Durations. Never an age: from 90 on an age is PHI, so a count of years
    # ("aged 92 years", "92 yrs") is a duration only below 90, and never before "old".
    r"\b(?:x\s*)?\d{1,3}(?:\s*(?:-|to)\s*\d{1,3})?\s*(?:days?|d|weeks?|wks?|months?|mos?"
    r"|hours?|hrs?|h|minutes?|mins?|times|x)\b(?:\s+ago)?",
    r"\b(?:x\s*)?[1-8]?\d(?:\s*(?:-|to)\s*[1-8]?\d)?\s*(?:years?|yrs?)\b(?![\s-]*old)(?:\s+ago)?",
    r"\b(?:pod|hd|hospital\s+day|day|week|cycle)\s*#?\s*\d{1,3}\b",
    r"\b(?:the\s+)?\d{1,3}(?:st|nd|rd|th)\s+(?:day|days|week|month|year|cycle|dose|session)\b",
    # Titres and proportions: "positive (1/20)", "titre of 1:160", "upper 2/3 of".
    r"\b(?:titers?|titres?|dilution|agglutination|specificity|positive|negative)\b[^.\n]{0,25}?"
    r"\b1\s*[/:]\s*\d{1,5}\b",
    r"\b\d{1,2}\s*/\s*\d{1,2}(?=\s+of\b)",
    r"\b(?:today|tonight|yesterday|tomorrow|overnight|daily|weekly|monthly|nightly"
    r"|this\s+(?:am|pm|morning|afternoon|evening)|last\s+(?:night|week|month|year)"
    r"|next\s+(?:week|month|year)|the\s+day\s+(?:before|after))\b",
    # Emergency numbers.
    r"\b911\b",
    # Genetics: chromosome bands ("5q22", "Xp21.2", "15q11-13", "3q22q23"),
    # microsatellite markers ("D5S37", "DXS426"), HLA alleles ("HLA-B27",
    # "HLA-DRB1*04:01") and OMIM numbers. Report IDs are longer or labelled.
    r"\b(?:[1-9]|1\d|2[0-2]|x|y)[pq]\d{1,2}(?:\.\d{1,3})?"
    r"(?:\s*-\s*(?:(?:[1-9]|1\d|2[0-2]|x|y)?[pq]?\d{1,2}(?:\.\d{1,3})?|[pq]ter)|[pq]\d{1,2})?\b",
    r"\bd(?:[1-9]|1\d|2[0-2]|x|y)s\d{1,5}[a-z]?\b",
    r"\bhla[\s-]?(?:[a-z]{1,3}\d?)(?:\s?\*?\s?(?:w?\d{1,4})(?::\d{2,3})*)?\b",
    r"\b(?:mim|omim)\s*#?\s*:?\s*\d{6}\b",
    # Obstetric history: "G4P0A4", "G3P2012", "G2 P1".
    r"\bg\d{1,2}\s*p\d{1,4}(?:\s*[-,]?\s*(?:a|ab|sab|tab|l|e|c)\d{1,2}){0,4}\b",
]
_COMPILED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
# A header: words at the start of a line, ended by a colon ("Daughter:", "NEURO:"),
# or a whole line of section words ("REVIEW OF SYSTEMS", "Musculoskeletal").
_COLON_HEADER = re.compile(r"(?m)^[ \t]*([A-Za-z][A-Za-z /&,()-]{0,50}?)[ \t]*:")
_LINE_HEADER = re.compile(r"(?m)^[ \t]*([A-Za-z][A-Za-z /&,()-]{0,50}?)[ \t]*$")
_HEADER_WORD = re.compile(r"[A-Za-z]+")
# Words a whole-line header is made of. A line of other common words may be an
# address line ("Springfield, Massachusetts"), so it is no header.
SECTION_WORDS = frozenset(
    """history present illness physical exam examination assessment plan review of systems
    system musculoskeletal education neuro neurologic neurological cv cardiovascular
    resp respiratory pulmonary lungs heart gi gastrointestinal gu genitourinary heme
    hematologic id infectious disease endo endocrine skin integumentary psych
    psychiatric social family medical surgical past medications meds allergies vitals
    vital signs labs laboratory data results impression diagnosis diagnoses chief
    complaint subjective objective hpi ros pmh psh fh sh constitutional general head
    eyes ears nose throat heent neck chest abdomen extremities lymphatic breast rectal
    pelvic back spine recommendations instructions discharge admission course hospital
    procedures procedure findings disposition follow up followup problem list problems
    and the reason for visit note interval events overnight current home outpatient
    inpatient assessment/plan a/p imaging radiology pathology consults consultation
    studies ekg ecg echo cxr""".split()
)


def protected_regions(text: str, *, is_header_word: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` ranges of clinical values and section headers.

    A colon header counts only when each of its words passes ``is_header_word``
    (the common-vocabulary check), so "Daughter:" is a header and "Walters:" is
    not; a whole-line header only when each word is in ``SECTION_WORDS``.
    """
    regions = [match.span() for match in _COMPILED.finditer(text) if match.end() > match.start()]
    for pattern, accepts in (
        (_COLON_HEADER, is_header_word),
        (_LINE_HEADER, lambda word: word.lower() in SECTION_WORDS),
    ):
        for match in pattern.finditer(text):
            words = _HEADER_WORD.findall(match.group(1))
            if words and len(words) <= 5 and all(accepts(w) for w in words):
                regions.append(match.span(1))
    regions.sort()
    merged: list[tuple[int, int]] = []
    for start, end in regions:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
