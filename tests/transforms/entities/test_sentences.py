from transforms.entities.sentences import split_sentences


def _sentences(text):
    return [text[a:b] for a, b in split_sentences(text)]


def test_prose_abbreviations_and_numbers_do_not_split():
    text = "Seen by Dr. Roe today. Takes 2.5 mg b.i.d. with food. Next visit in May."
    assert _sentences(text) == [
        "Seen by Dr. Roe today.",
        "Takes 2.5 mg b.i.d. with food.",
        "Next visit in May.",
    ]


def test_wrapped_lines_join_and_lists_headers_and_blank_lines_split():
    text = (
        "HPI: 64 yo man with cough and\nshortness of breath for 3 days\n\n"
        "PMH:\n- hypertension\n- diabetes\nPlan: start antibiotics"
    )
    assert _sentences(text) == [
        "HPI:",
        "64 yo man with cough and\nshortness of breath for 3 days",
        "PMH:",
        "- hypertension",
        "- diabetes",
        "Plan:",
        "start antibiotics",
    ]


def test_missing_spaces_after_periods_still_split():
    assert _sentences("Lungs clear.No edema.Abd soft") == ["Lungs clear.", "No edema.", "Abd soft"]
