import pytest

from transforms.core.registry import name_registrar
from transforms.detection.base import Detector, register_detector
from transforms.redaction.operator import Operator, register_operator
from transforms.redaction.policy import build_operator


def test_registers_under_the_name_and_refuses_a_second_class():
    registry: dict[str, type] = {}
    register = name_registrar(registry, "widget")

    @register("a")
    class First:
        pass

    assert registry == {"a": First} and First.name == "a"
    assert register("a")(First) is First  # re-registering the same class is harmless
    with pytest.raises(ValueError, match="widget name 'a' is already registered"):

        @register("a")
        class Second:
            pass

    assert registry == {"a": First}


def test_builtin_operator_and_detector_names_cannot_be_taken_over():
    build_operator({"type": "tag"})  # the built-ins are registered
    with pytest.raises(ValueError, match="operator name 'tag' is already registered"):

        @register_operator("tag")
        class NotTag(Operator):
            def replace(self, original, span, context):
                return original

    from transforms.detection import patterns  # noqa: F401 - registers presidio_patterns

    with pytest.raises(ValueError, match="detector name 'presidio_patterns'"):

        @register_detector("presidio_patterns")
        class NotPatterns(Detector):
            def detect(self, text):
                return []
