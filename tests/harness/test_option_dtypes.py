"""--ttpose-dtypes offers exactly the dtypes the TT model accepts: --help lists them, and the others (float32,
bfloat4_b, which ttnn has but the model refuses) are a usage error naming the option, not a failure in every case."""

from __future__ import annotations

import re

import pytest

from pytest_ttpose.harness import settings
from pytest_ttpose.tt.model import SUPPORTED_DTYPES


def test_the_options_offer_what_the_model_accepts() -> None:
    assert settings.DTYPES == SUPPORTED_DTYPES


def test_help_lists_exactly_the_supported_dtypes(fake_tester: pytest.Pytester) -> None:
    text = " ".join(fake_tester.runpytest("--help").stdout.str().split())
    listed = re.search(r"--ttpose-dtypes=PAIRS .*?\(dtypes: ([^)]*)\)", text)
    assert listed is not None and listed.group(1) == "bfloat16, bfloat8_b"


@pytest.mark.parametrize(("pairs", "bad"), [("float32/float32", "float32"), ("bfloat8_b/bfloat4_b", "bfloat4_b")])
def test_unsupported_dtypes_are_a_usage_error(fake_tester: pytest.Pytester, pairs: str, bad: str) -> None:
    result = fake_tester.runpytest(f"--ttpose-dtypes={pairs}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--ttpose-dtypes={bad}: not a dtype the YOLO11-pose TT model supports*"])
