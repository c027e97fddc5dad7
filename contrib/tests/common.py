"""Shared helpers of the scale-out tests: the weir binary, test data, the one-machine reference."""
import os
import random
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def weir_bin() -> str:
    """The weir binary under test: $WEIR_BIN, else the release build of this checkout."""
    path = os.environ.get("WEIR_BIN") or str(ROOT / "target" / "release" / "weir")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no weir binary at {path}: run `cargo build --release -p weir-cli` or set WEIR_BIN")
    return path


WORDS = ["order", "late", "refund", "vip", "called", "email", "phone", "weekend", "happy", "promo"]
HEADER = "id,name,email,age,country,notes\n"


def customers(path: Path, size: int, seed: int = 1, adversarial: bool = False) -> Path:
    """A dirty CSV of about `size` bytes with quoted newlines, doubled quotes and bad values.

    `adversarial` adds long quoted notes whose lines look like records of the same width
    (`1,x,y@z,3,US,n` inside quotes), which is what makes a guessed shard start wrong.
    """
    rnd = random.Random(seed)
    out, written, i = [HEADER], len(HEADER), 0
    while written < size:
        i += 1
        name = rnd.choice(["Ana Smith", '"Kim, Lee"', "  Bo Chen ", "Eve"])
        email = rnd.choice([f"u{i}@example.com", f"u{i}@mail.org", "broken@", ""])
        age = str(rnd.randint(16, 95)) if rnd.random() > 0.02 else rnd.choice(["", "abc", "-3"])
        country = rnd.choice(["US", "DE", "FR", "JP"])
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(0, 8)))
        r = rnd.random()
        if adversarial and r < 0.05:
            fake = "\n".join(f"{i}{j},x,y@z,{j},US,n" for j in range(rnd.randint(1, 60)))
            notes = f'"{fake}\n"'
        elif r < 0.03:
            notes = f'"{words}\n{words}"'
        elif r < 0.05:
            notes = f'"{words} said ""hi"", ok"'
        else:
            notes = words
        line = f"{i},{name},{email},{age},{country},{notes}\n"
        out.append(line)
        written += len(line)
    path.write_text("".join(out))
    return path


def weir(*args, check=True, **kw) -> subprocess.CompletedProcess:
    """Runs weir with `args`; raises with its stderr when it fails and `check` is set."""
    p = subprocess.run([weir_bin(), *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"weir {' '.join(map(str, args))}: exit {p.returncode}\n{p.stderr}")
    return p


def one_machine(input_path, out_dir: Path, *pipeline) -> dict:
    """The reference: the same pipeline on one machine. Returns the paths of its files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"output": out_dir / "one.csv", "rejects": out_dir / "one-rejects.csv",
             "report": out_dir / "one-report.json"}
    weir("run", *pipeline, "--input", input_path, "--output", files["output"],
         "--rejects", files["rejects"], "--report", files["report"], "--quiet")
    return files
