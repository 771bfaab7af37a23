"""The kinds of problem a payload can have, each with a stable id (SARIF's `ruleId`, GitLab's `check_name`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One kind of problem: its stable id, a short name and a one-line description."""

    id: str
    name: str
    description: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("unknown-field", "UnknownField", "The payload has a field the task's schema does not define."),
        Rule("missing-field", "MissingField", "A field the task's schema requires is missing."),
        Rule("wrong-type", "WrongType", "A value has another JSON type than the schema expects."),
        Rule("out-of-range", "OutOfRange", "A number is outside the range the schema allows."),
        Rule("wrong-length", "WrongLength", "A string, array or object is shorter or longer than the schema allows."),
        Rule("not-allowed", "NotAllowedValue", "A value is not one of the values the schema allows."),
        Rule("pattern-mismatch", "PatternMismatch", "A string does not match the pattern the schema requires."),
        Rule("invalid-value", "InvalidValue", "A value the schema refuses for another reason."),
        Rule("malformed-json", "MalformedJson", "The text is not valid JSON."),
        Rule("not-utf8", "NotUtf8", "The text is not UTF-8."),
        Rule("binary-content", "BinaryContent", "The file holds binary data, not JSON text."),
        Rule("empty", "EmptyPayload", "The file or line holds no JSON value."),
        Rule("too-deep", "TooDeep", "The JSON is nested too deeply to check."),
        Rule("not-an-array", "NotAnArray", "A file read as an array of payloads (--each) holds no JSON array."),
    )
}

_BY_ERROR_TYPE = {
    "extra_forbidden": "unknown-field",
    "missing": "missing-field",
    "greater_than": "out-of-range",
    "greater_than_equal": "out-of-range",
    "less_than": "out-of-range",
    "less_than_equal": "out-of-range",
    "multiple_of": "out-of-range",
    "finite_number": "out-of-range",
    "too_short": "wrong-length",
    "too_long": "wrong-length",
    "string_too_short": "wrong-length",
    "string_too_long": "wrong-length",
    "literal_error": "not-allowed",
    "enum": "not-allowed",
    "string_pattern_mismatch": "pattern-mismatch",
    "json_invalid": "malformed-json",
    "recursion_loop": "too-deep",
}


def rule_of(error_type: str) -> str:
    """The rule id of a pydantic error type (`int_type` → `wrong-type`, `greater_than_equal` → `out-of-range`)."""
    found = _BY_ERROR_TYPE.get(error_type)
    if found is not None:
        return found
    if error_type.endswith(("_type", "_parsing")) or error_type in ("is_instance_of", "union_tag_invalid"):
        return "wrong-type"
    return "invalid-value"
