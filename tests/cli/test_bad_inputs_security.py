"""Hostile names (issue 32): nothing written outside ``--out``, nothing read outside the input.

A name that comes from user data and becomes part of a path (DSGenerator's
``user_pname``, a YAML ``label``, an audiofolder's ``file_name`` and ``item_id``, a
metadata column or ``examples.json`` key used as a factor, a file stem under
``--pattern``, the keys of a notes folder, a dataset's ``audio_path``, ``split`` and
``item_id``, a card's factor names) is refused with one ``error:`` line naming the
field and the value, before anything is written. The cases use the harness of
``bad_inputs.py`` on a light sandbox of their own (a tiny generated dataset with
features, an existing file outside every ``--out``), so they run in seconds.

Also here: every written path stays inside ``--out`` whatever the name, names that are
odd but safe still work, and a report and a static explorer page built from a dataset
whose factor names and values are HTML hold no markup from them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.cli.bad_inputs import Case, Sandbox, run_case, snapshot
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.utils.paths import safe_name, safe_relpath

SR = 8000


def _wav(f0_hz: float = 440.0, duration_s: float = 0.25) -> bytes:
    t = np.arange(int(SR * duration_s)) / SR
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


WAV = _wav()


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """A tiny dataset with features, an outside file, and copies of the dataset with hostile metadata."""
    from timbrespace.datasets import DatasetConfig, generate_dataset
    from timbrespace.features import FeatureConfig, compute_dataset_features

    root = tmp_path_factory.mktemp("hostile")
    config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=SR, duration_s=0.25, seed=3,
                           parameters={"f0_hz": {"min": 220, "max": 440, "n": 2},
                                       "decay_per_s": {"min": 1, "max": 8, "n": 2}},
                           splits={"train": 0.5, "valid": 0.25, "test": 0.25})
    ds = generate_dataset(config, root / "dataset", workers=1, progress=False)
    compute_dataset_features(ds, FeatureConfig(kind="stft", n_fft=256, hop_length=64, output="db",
                                               normalization="minmax_item"), name="spec", progress=False)
    (root / "x" / "victim").mkdir(parents=True)
    (root / "x" / "victim" / "keep.wav").write_bytes(WAV)  # a user's file outside every --out
    inputs = root / "inputs"
    inputs.mkdir()
    _hostile_copy(ds.root, inputs / "ds_audio_path", column="audio_path", value="../../x/victim/keep.wav")
    _hostile_copy(ds.root, inputs / "ds_split", column="split", value="../escape")
    _hostile_copy(ds.root, inputs / "ds_item_id", column="item_id", value="../escape")
    _hostile_factor(ds.root, inputs / "ds_factor", "../../../../x/escape")
    _timbre_dataset(inputs / "ds_timbre", descriptor="../../../../x/victim/T")
    wav = root / "existing.wav"
    wav.write_bytes(WAV)
    return Sandbox(root=root, dataset=ds.root, run=root / "no_run", notes=root / "no_notes",
                   grooves=root / "no_grooves", wav=wav, export=root / "no_export", inputs=inputs,
                   new=root / "new_output")


def _timbre_dataset(target: Path, *, descriptor: str) -> None:
    """A descriptor/magnitude/pitch dataset at 22050 Hz whose descriptors come from a metadata column."""
    from timbrespace.datasets.ingest import ingest_folder

    folder = target.parent / f"{target.name}_src"
    folder.mkdir()
    t = np.arange(2205) / 22050
    rows = []
    for k, (name, magnitude, pitch) in enumerate([(descriptor, 0, 64), (descriptor, 50, 65), ("Dark", 0, 64),
                                                  ("Dark", 50, 65)]):
        sf.write(folder / f"{k}.wav", (0.3 * np.sin(2 * np.pi * 330 * (k + 1) * t)).astype(np.float32), 22050)
        rows.append(f"{k}.wav,{name},{magnitude},{pitch}")
    (folder / "metadata.csv").write_text("file_name,descriptor,magnitude,pitch\n" + "\n".join(rows) + "\n")
    ingest_folder(folder, target, splits={"train": 0.5, "valid": 0.25, "test": 0.25})


def _hostile_copy(dataset: Path, target: Path, *, column: str, value: str) -> None:
    shutil.copytree(dataset, target)
    meta = pd.read_parquet(target / "metadata.parquet")
    meta.loc[0, column] = value
    meta.to_parquet(target / "metadata.parquet", index=False)


def _hostile_factor(dataset: Path, target: Path, name: str) -> None:
    shutil.copytree(dataset, target)
    card = json.loads((target / "dataset.json").read_text())
    old = card["factors"][0]["name"]
    card["factors"][0]["name"] = name
    (target / "dataset.json").write_text(json.dumps(card))
    meta = pd.read_parquet(target / "metadata.parquet").rename(columns={old: name, f"{old}_code": f"{name}_code"})
    meta.to_parquet(target / "metadata.parquet", index=False)


# ----------------------------------------------------------------------------- inputs
def _dsgenerator(user_pname: str = "Irregularity", *, fixed: list | None = None) -> bytes:
    """A DSGenerator config_file.json (newer shape) of 2 items at 8 kHz."""
    data = {"soundname": "Pop", "samplerate": SR, "chunkSecs": 0.25, "soundDuration": 0.25, "recordFormat": "params",
            "params": [{"user_pname": user_pname, "user_minval": 0, "user_maxval": 1, "user_nvals": 2,
                        "synth_pname": "irreg_exp", "synth_minval": 0, "synth_maxval": 1, "synth_units": "natural"}]}
    if fixed is not None:
        data["fixedParams"] = fixed
    return json.dumps(data).encode()


def _in_between_fixed(name: str) -> list:
    """DSGenerator @ 9c62930: a fixed parameter named in file names by its user_pname."""
    return [{"user_pname": name, "user_pval": 0.6, "user_minval": 0, "user_maxval": 1, "synth_pname": "rate",
             "synth_minval": 0.25, "synth_maxval": 0.5, "synth_units": "norm"}]


def _yaml_label(label: str) -> bytes:
    return (f"name: labelled\nsound_model: additive\nsample_rate: {SR}\nduration_s: 0.25\nnaming: dsgenerator\n"
            f"parameters:\n  f0_hz: {{min: 220, max: 440, n: 2, label: {json.dumps(label)}}}\n").encode()


def _audiofolder(rows: str, header: str = "file_name,pitch") -> dict[str, bytes]:
    return {"metadata.csv": f"{header}\n{rows}\n".encode(), "a.wav": WAV, "b.wav": WAV}


def _af(name: str, rows: str, header: str = "file_name,pitch") -> dict[str, bytes]:
    return {f"{name}/{k}": v for k, v in _audiofolder(rows, header).items()} | {"af_secret.wav": WAV}


def _nsynth(name: str, key: str) -> dict[str, bytes]:
    examples = {"n-060": {"pitch": 60, key: "x"}, "n-064": {"pitch": 64, key: "y"}}
    return {f"{name}/examples.json": json.dumps(examples).encode(), f"{name}/audio/n-060.wav": WAV,
            f"{name}/audio/n-064.wav": WAV}


def _notes(name: str, hostile_key: str) -> dict[str, bytes]:
    """A notes folder for ``timbre build``: 23 clean notes, pitch 64's key leaving the folder."""
    examples, files = {}, {}
    for pitch in range(64, 87):
        stem = hostile_key if pitch == 64 else f"g-{pitch}"
        examples[stem] = {"instrument_str": "clean_electric_guitar", "pitch": pitch, "velocity": 100}
        if pitch != 64:
            files[f"{name}/audio/{stem}.wav"] = WAV
    return files | {f"{name}/examples.json": json.dumps(examples).encode(), "tb_secret.wav": WAV}


GENERATE = ("generate", "--out", "{new}", "--workers", "1", "--no-progress")


def _generate(config: str) -> tuple[str, ...]:
    return (GENERATE[0], f"{{inputs}}/{config}", *GENERATE[1:])


CASES = [
    # DSGenerator names (user_pname: file names and .params records)
    Case("dsgenerator-user-pname-dotdot", _generate("dsg_dotdot.json"),
         ("params[0].user_pname", "'../../../../x/victim/ESCAPED'", "'/'"),
         files={"dsg_dotdot.json": _dsgenerator("../../../../x/victim/ESCAPED")}),
    Case("dsgenerator-user-pname-absolute", _generate("dsg_abs.json"), ("params[0].user_pname", "'/tmp/ESCAPED'"),
         files={"dsg_abs.json": _dsgenerator("/tmp/ESCAPED")}),
    Case("dsgenerator-user-pname-backslash", _generate("dsg_bs.json"), ("params[0].user_pname", "'\\\\'"),
         files={"dsg_bs.json": _dsgenerator("..\\..\\ESCAPED")}),
    Case("dsgenerator-user-pname-nul", _generate("dsg_nul.json"), ("params[0].user_pname", "control character"),
         files={"dsg_nul.json": _dsgenerator("rate\x00.wav")}),
    Case("dsgenerator-user-pname-newline", _generate("dsg_nl.json"), ("params[0].user_pname", "control character"),
         files={"dsg_nl.json": _dsgenerator("rate\nx")}),
    Case("dsgenerator-fixed-user-pname", _generate("dsg_fixed.json"), ("fixedParams[0].user_pname", "../"),
         files={"dsg_fixed.json": _dsgenerator(fixed=_in_between_fixed("../../../../x/victim/F"))}),
    Case("yaml-label-dotdot", _generate("label.yaml"), ("parameters.f0_hz.label", "'../../../../x/victim/L'"),
         files={"label.yaml": _yaml_label("../../../../x/victim/L")}),
    # audiofolder metadata: file_name may not leave the input folder; item_id and columns name files
    Case("audiofolder-file-name-dotdot", ("ingest", "{inputs}/af_dotdot", "--out", "{new}"),
         ("row 1", "file_name='../af_secret.wav'", ".."), files=_af("af_dotdot", "../af_secret.wav,60\na.wav,62")),
    Case("audiofolder-file-name-nested-dotdot", ("ingest", "{inputs}/af_nested", "--out", "{new}"),
         ("row 2", "file_name='sub/../../af_secret.wav'"),
         files=_af("af_nested", "a.wav,60\nsub/../../af_secret.wav,62")),
    Case("audiofolder-file-name-absolute", ("ingest", "{inputs}/af_abs", "--out", "{new}"),
         ("row 1", "file_name='/etc/passwd'", "absolute"), files=_af("af_abs", "/etc/passwd,60\na.wav,62")),
    Case("audiofolder-file-name-backslash", ("ingest", "{inputs}/af_bs", "--out", "{new}"),
         ("row 1", "file_name='..\\\\af_secret.wav'"), files=_af("af_bs", "..\\af_secret.wav,60\na.wav,62")),
    Case("audiofolder-item-id-dotdot", ("ingest", "{inputs}/af_id", "--out", "{new}"),
         ("row 1", "item_id='../../escape'"),
         files=_af("af_id", "a.wav,../../escape,60\nb.wav,b,62", "file_name,item_id,pitch")),
    Case("audiofolder-item-id-control", ("ingest", "{inputs}/af_idc", "--out", "{new}"),
         ("row 2", "item_id=", "control character"),
         files=_af("af_idc", "a.wav,a,60\nb.wav,\"b\x07\",62", "file_name,item_id,pitch")),
    Case("audiofolder-factor-column", ("ingest", "{inputs}/af_col", "--out", "{new}"),
         ("factor name='../../../x/escape'",), files=_af("af_col", "a.wav,60\nb.wav,62", "file_name,../../../x/escape")),
    # nsynth: a key of examples.json chosen as a factor
    Case("nsynth-factor-key", ("ingest", "{inputs}/ns", "--out", "{new}", "--factors", "pitch,../../x/escape"),
         ("factor name='../../x/escape'",), files=_nsynth("ns", "../../x/escape")),
    # --pattern: ids come from file stems; a stem with a backslash or control character is one
    Case("pattern-stem-backslash", ("ingest", "{inputs}/pat", "--out", "{new}", "--pattern", r"(?P<name>.+)-(?P<pitch>\d+)"),
         ("item_id='x\\\\y-60'",), files={"pat/x\\y-60.wav": WAV, "pat/z-62.wav": WAV}),
    # timbre build: the notes folder's keys name the files read
    Case("timbre-build-notes-key-dotdot", ("timbre", "build", "{inputs}/tb", "--out", "{new}", "--descriptors",
                                           "Bright", "--magnitudes", "0"),
         ("examples.json: key='../../tb_secret'",), files=_notes("tb", "../../tb_secret")),
    # a dataset's metadata: audio_path, split and item_id name files of exports and inversions
    Case("export-nsynth-audio-path-outside", ("export", "{inputs}/ds_audio_path", "-f", "nsynth-json", "-o", "{new}"),
         ("item 0: audio_path='../../x/victim/keep.wav'",)),
    Case("export-audiofolder-audio-path-outside", ("export", "{inputs}/ds_audio_path", "-f", "audiofolder",
                                                   "-o", "{new}"), ("audio_path='../../x/victim/keep.wav'",)),
    Case("export-audiofolder-split", ("export", "{inputs}/ds_split", "-f", "audiofolder", "-o", "{new}"),
         ("item 0: split='../escape'",)),
    Case("invert-item-id", ("invert", "{inputs}/ds_item_id", "--features", "spec", "--out", "{new}"),
         ("item_id='../escape'",)),
    # factor values that name files: a timbre run's descriptors name its generated clips
    Case("timbre-train-descriptor", ("timbre", "train", "{inputs}/ds_timbre", "--out", "{new}", "--descriptors", "all",
                                     "--preset", "tiny", "--epochs", "1", "--no-progress"),
         ("descriptor='../../../../x/victim/T'",)),
    # a card's factor names name the report's figure files
    Case("train-factor-name", ("train", "{inputs}/ds_factor", "--features", "spec", "--out", "{new}", "--epochs", "1",
                               "--no-progress"), ("factor name='../../../../x/escape'",)),
]


@pytest.mark.xdist_group("cli-hostile")  # one light sandbox per worker
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_name(light: Sandbox, case: Case) -> None:
    run_case(light, case)


def test_the_table_covers_every_source() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    sources = {c.id.split("-")[0] for c in CASES}
    assert sources >= {"dsgenerator", "yaml", "audiofolder", "nsynth", "pattern", "timbre", "export", "invert",
                       "train"}


# ----------------------------------------------------------------------------- written paths stay inside --out
ESCAPES = [c for c in CASES if "{new}" in c.argv]


@pytest.mark.xdist_group("cli-hostile")
@pytest.mark.parametrize("case", ESCAPES, ids=[c.id for c in ESCAPES])
def test_written_paths_stay_inside_out(light: Sandbox, case: Case) -> None:
    """Whatever the command answers, nothing outside ``--out`` is new or changed (but for the
    feature set ``timbre train`` derives in its input dataset, as it does for any dataset)."""
    from timbrespace.cli import main

    for name, data in case.files.items():
        target = light.inputs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(data)
    before = snapshot(light.root)
    try:
        main(light.fill(case.argv))
    except SystemExit:
        pass
    after = snapshot(light.root)
    try:
        out = light.new.relative_to(light.root).as_posix()
        derived = "inputs/ds_timbre/features"
        outside = sorted(k for k in set(before) | set(after)
                         if before.get(k) != after.get(k) and k != out and not k.startswith(out + "/")
                         and not k.startswith(derived))
        assert not outside, f"written outside --out: {outside[:5]}"
    finally:
        shutil.rmtree(light.new, ignore_errors=True)


def test_odd_but_safe_names_are_kept(tmp_path: Path) -> None:
    """Spaces, accents, dots inside a name and a leading dash are names: generated inside --out."""
    from timbrespace.cli import main

    config = tmp_path / "odd.json"
    config.write_bytes(_dsgenerator("centre freq. (Hz) é..x"))
    out = tmp_path / "o" / "t"
    main(["generate", str(config), "--out", str(out), "--workers", "1", "--no-progress"])
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p != config)
    assert len([p for p in written if p.suffix == ".wav"]) == 2
    for p in written:
        assert p.resolve().is_relative_to(out.resolve()), p
    assert (out / "audio" / "Pop--centre freq. (Hz) é..x-00.00--v-000.wav").is_file()


# ----------------------------------------------------------------------------- the helper
@pytest.mark.parametrize("value", ["..", ".", "", "a/b", "a\\b", "/abs", "nul\x00", "tab\t", "del\x7f", "c1\x85"])
def test_safe_name_refuses(value: str) -> None:
    with pytest.raises(ParameterError, match=r"^user_pname=.* cannot be part of a file name"):
        safe_name(value, what="user_pname")


@pytest.mark.parametrize("value", ["a..b", "..a", "-x", "centre frequency (Hz)", "é", "Bright-75-E5"])
def test_safe_name_keeps(value: str) -> None:
    assert safe_name(value, what="x") == value


@pytest.mark.parametrize("value", ["../x.wav", "a/../../x.wav", "/abs.wav", "\\abs.wav", "C:x.wav", "a\\b.wav",
                                   "a/\x00.wav", "./..", "."])
def test_safe_relpath_refuses(value: str) -> None:
    with pytest.raises(DatasetError, match=re.escape(f"file_name={value!r}")):
        safe_relpath(value, what="file_name", error=DatasetError)


def test_safe_relpath_keeps_relative_paths() -> None:
    assert str(safe_relpath("./train//a.wav", what="f")) == "train/a.wav"
    assert str(safe_relpath("sub/a..b.wav", what="f")) == "sub/a..b.wav"


# ----------------------------------------------------------------------------- HTML from hostile factors
HOSTILE_NAME = "<img src=x onerror=alert(3)>"  # a factor name (one file name: no '/')
HOSTILE_VALUE = "<script>alert(1)</script>"  # a factor value


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained one epoch on recordings whose factor names and values are HTML."""
    from timbrespace.cli import main

    root = tmp_path_factory.mktemp("html")
    notes = root / "notes"
    (notes / "audio").mkdir(parents=True)
    examples = {}
    for k, pitch in enumerate(range(60, 68)):
        (notes / "audio" / f"n-{pitch}.wav").write_bytes(_wav(440 * 2 ** ((pitch - 69) / 12)))
        examples[f"n-{pitch}"] = {"pitch": pitch, HOSTILE_NAME: k % 2,
                                  "instrument_str": HOSTILE_VALUE if k % 2 else "plain"}
    (notes / "examples.json").write_text(json.dumps(examples))
    main(["ingest", str(notes), "--out", str(root / "ds"), "--factors", f"pitch,{HOSTILE_NAME},instrument_str",
          "--splits", "train=0.5,valid=0.25,test=0.25"])
    main(["features", str(root / "ds"), "--name", "spec", "--n-fft", "256", "--hop-length", "64",
          "--normalization", "minmax_item", "--no-progress"])
    main(["train", str(root / "ds"), "--features", "spec", "--out", str(root / "run"), "--epochs", "1",
          "--latent-dim", "3", "--hidden", "32", "--no-progress"])
    return root / "run"


@pytest.mark.xdist_group("cli-hostile-run")  # one tiny trained run per worker
@pytest.mark.long(10)
def test_report_escapes_hostile_factors(hostile_run: Path) -> None:
    page = (hostile_run / "report.html").read_text()
    assert "&lt;img src=x onerror=alert(3)&gt;" in page  # the name is shown, as text
    assert "<img src=x" not in page and "<script" not in page.lower()


def test_report_text_runs_no_markup() -> None:
    from timbrespace.analysis.report import Report

    report = Report(HOSTILE_NAME, subtitle=HOSTILE_VALUE).section(HOSTILE_VALUE)
    report.text(f"factors {HOSTILE_NAME}, {HOSTILE_VALUE}; [a](javascript:alert(2)) [b](java&#115;cript:x) "
                "[c](https://example.org) `<b>`")
    report.text(f"{HOSTILE_VALUE}\n\n<div onclick=x>block</div>").code(HOSTILE_VALUE)
    report.table({HOSTILE_NAME: HOSTILE_VALUE}, HOSTILE_NAME).audio(np.zeros(80), SR, HOSTILE_NAME)
    report.table({HOSTILE_VALUE: {HOSTILE_NAME: 1.0}})  # names as row index and column header
    page = report.html()
    assert "<img src=x" not in page and "<script" not in page and "<div onclick" not in page
    assert "javascript" not in page and "java&#115;cript" not in page
    assert '<a href="https://example.org">c</a>' in page and "<code>&lt;b&gt;</code>" in page


@pytest.mark.xdist_group("cli-hostile-run")
@pytest.mark.long(4)
def test_static_explorer_page_escapes_hostile_factors(hostile_run: Path, tmp_path: Path) -> None:
    from timbrespace.cli import main

    out = tmp_path / "page.html"
    main(["explore", str(hostile_run), "--static", str(out), "--grid", "2"])
    page = out.read_text()
    assert "<img src=x" not in page and HOSTILE_VALUE not in page
    assert page.lower().count("<script") == 2 and page.lower().count("</script") == 2  # the data and the page's own
    payload = re.search(r'<script id="timbrespace-static" type="application/json">(.*?)</script>', page, re.S)
    data = json.loads(payload.group(1))  # the names come back whole in the page's own data
    assert HOSTILE_NAME in data["items"]["factors"] and HOSTILE_VALUE in data["items"]["factors"]["instrument_str"]


@pytest.mark.parametrize("filename", ["../secret.wav", "/etc/secret.wav", "sub/../../secret.wav"])
def test_drum_kit_reads_only_its_own_samples(tmp_path: Path, filename: str) -> None:
    """A Hydrogen drumkit.xml names its samples; one outside the kit's folder is refused, not read."""
    from timbrespace.patterns.kits import load_hydrogen_kit

    (tmp_path / "secret.wav").write_bytes(WAV)
    kit = tmp_path / "Kit"
    kit.mkdir()
    (kit / "drumkit.xml").write_text(
        "<drumkit_info><name>K</name><instrumentList><instrument><id>0</id><name>Kick</name>"
        f"<midiOutNote>36</midiOutNote><layer><filename>{filename}</filename><min>0</min><max>1</max></layer>"
        "</instrument></instrumentList></drumkit_info>")
    with pytest.raises(DatasetError, match=re.escape(f"layer filename={filename!r}")):
        load_hydrogen_kit(kit)
