"""The files a run writes besides its cassettes: the report formats, the saved run, and the
comparison with a baseline run (the upgrade gate).

Kept apart from :class:`~pytest_xgen.session.XgenSession` (the run's calls and models) and
from :class:`~pytest_xgen.reporter.XgenReporter` (the terminal), which shows what this
wrote. The controller alone writes; pytest-xdist workers hand their results over.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_xgen import files
from pytest_xgen.report.formats import FORMATS, json_text

if TYPE_CHECKING:
    from pytest_xgen.report.gate import Comparison, GateResult
    from pytest_xgen.settings.config import Settings


class Outputs:
    """The report files of one run, the baseline it is compared with and the gate's result."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.written: list[Path] = []
        self.errors: list[str] = []
        self.baseline: dict[str, Any] | None = None
        self.comparison: Comparison | None = None
        self.gate: GateResult | None = None

    @property
    def runs_dir(self) -> Path:
        """Where ``--xgen-save`` keeps runs and ``--xgen-compare NAME`` finds them."""
        return self.settings.path("cache_dir").parent / "runs"

    def load_baseline(self) -> None:
        """Read the ``--xgen-compare`` run now, so a missing one stops the run before any
        model is called."""
        ref = self.settings.compare
        if not ref:
            return
        from pytest_xgen.report.gate_runs import load_run

        if (ref.endswith(".json") or "/" in ref) and not Path(ref).is_absolute():
            ref = str(self.settings.rootpath / ref)  # paths are taken from the rootdir
        try:
            self.baseline = load_run(ref, self.runs_dir)
        except (OSError, ValueError) as exc:
            raise pytest.UsageError(f"xgen: --xgen-compare: {exc}") from None

    @property
    def wanted(self) -> bool:
        """Whether the run writes or compares a report at all."""
        s = self.settings
        return bool(s.save or s.compare or any(getattr(s, f.setting) for f in FORMATS))

    def write(self, doc: dict[str, Any], session: pytest.Session) -> None:
        """Compare ``doc`` with the baseline (setting the exit status when the gate fails),
        then write every report format asked for and the saved run."""
        s = self.settings
        if self.baseline is not None:
            self._compare(doc, session)
        targets: list[tuple[Path, str]] = []
        for form in FORMATS:
            path = getattr(s, form.setting)
            if path:
                targets.append((self._resolve(Path(path)), form.text(doc, s)))
        if s.save:
            targets.append((self.runs_dir / f"{s.save}.json", json_text(doc)))
        for path, text in targets:
            files.write_text(path, text)
            self.written.append(path)

    def _resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.settings.rootpath / path

    def _compare(self, doc: dict[str, Any], session: pytest.Session) -> None:
        from pytest_xgen.report.gate import compare, gate

        s = self.settings
        assert self.baseline is not None
        self.comparison = compare(
            self.baseline,
            doc,
            alpha=s.compare_alpha,
            adjust_with=s.compare_adjust,
            thresholds=s.compare_fail,
        )
        doc["comparison"] = {"baseline": s.compare, **self.comparison.to_dict(), "gate": None}
        if s.compare_fail:
            self.gate = gate(self.comparison, s.compare_underpowered)
            doc["comparison"]["gate"] = self.gate.to_dict()
            if self.gate.failed:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self._junit()

    def _junit(self) -> None:
        """The comparison as properties of the JUnit XML test suite (``--junitxml``)."""
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None or self.comparison is None:
            return
        counts = self.comparison.counts()
        for verdict in ("regressed", "improved", "unchanged", "unpaired"):
            xml.add_global_property(f"xgen_compare_{verdict}", counts[verdict])
        xml.add_global_property("xgen_compare_adjust", self.comparison.adjust)
        paired, compared = self.comparison.pairing()
        xml.add_global_property("xgen_compare_paired", f"{paired}/{compared}")
        for metric, suite in self.comparison.suite.items():
            if suite.tests:
                xml.add_global_property(f"xgen_suite_{metric}_verdict", suite.verdict)
                xml.add_global_property(f"xgen_suite_{metric}_mean_change", suite.mean_change)
                xml.add_global_property(
                    f"xgen_suite_{metric}_detectable_drop", suite.detectable_drop
                )
        if self.gate is not None:
            xml.add_global_property("xgen_gate", self.gate.result)
            for warning in self.gate.warnings:
                xml.add_global_property("xgen_gate_warning", warning)
