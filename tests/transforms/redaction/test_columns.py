import pytest

from schemas.config import InputConfig
from transforms.redaction.columns import ColumnRelease, ColumnValueError
from transforms.redaction.operator import OperatorConfigError, RedactionContext

CONTEXT = RedactionContext(
    "n1", "p1", date_shift_days=-10, hash_key=b"h" * 32, surrogate_key=b"s" * 32
)
OTHER_PATIENT = RedactionContext(
    "n2", "p2", date_shift_days=-200, hash_key=b"h" * 32, surrogate_key=b"t" * 32
)


def release(policies):
    return ColumnRelease.from_policies(InputConfig(column_policies=policies).column_policies)


def test_each_policy():
    columns = release(
        {
            "department": "keep",
            "mrn": {"type": "hash", "options": {"length": 16}},
            "admitted": "date_shift",
            "birth_date": {"type": "generalize", "kind": "date"},
            "zip": {"type": "generalize", "kind": "zip"},
            "age": {"type": "generalize", "kind": "age"},
            "name": "surrogate",
            "comment": "deid_text",
        }
    )
    assert columns.release("department", "icu", CONTEXT) == "icu"
    mrn = columns.release("mrn", "12345678", CONTEXT)
    assert len(mrn) == 16 and mrn != "12345678"
    # A hashed column joins across patients: the same value, the same hash.
    assert columns.release("mrn", "12345678", OTHER_PATIENT) == mrn
    assert columns.release("admitted", "03/14/2021", CONTEXT) == "03/04/2021"
    assert columns.release("admitted", "2021-03-14", OTHER_PATIENT) == "2020-08-26"
    assert columns.release("birth_date", "1931-02-03", CONTEXT) == "1931"
    assert columns.release("zip", "02115", CONTEXT) == "021"
    assert columns.release("zip", "03601", CONTEXT) == "000"
    assert columns.release("age", "93", CONTEXT) == "90+"
    name = columns.release("name", "SMITH, MARY", CONTEXT)
    assert name.isupper() and name.count(",") == 1 and name != "SMITH, MARY"
    assert columns.release("name", "Smith, Mary", CONTEXT) == name.title()
    assert columns.release("name", None, CONTEXT) is None
    assert columns.text_columns() == ["comment"]


def test_unreadable_values_name_the_column_not_the_value():
    columns = release({"admitted": "date_shift", "zip": {"type": "generalize", "kind": "zip"}})
    with pytest.raises(ColumnValueError, match="column 'admitted'") as raised:
        columns.release("admitted", "sometime in spring", CONTEXT)
    assert "spring" not in str(raised.value)
    with pytest.raises(ColumnValueError, match="column 'zip'"):
        columns.release("zip", "ABCDE", CONTEXT)


def test_bad_operator_settings_name_the_column():
    with pytest.raises(OperatorConfigError, match=r"input\.column_policies\.mrn: .*length"):
        release({"mrn": {"type": "hash", "options": {"length": 2}}})
    with pytest.raises(OperatorConfigError, match=r"input\.column_policies\.mrn: .*invalid"):
        release({"mrn": {"type": "hash", "options": {"colour": "red"}}})
