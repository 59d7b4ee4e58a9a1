"""The package itself: library discovery, help(), typing marker."""

import os
import pydoc
import subprocess
import sys
import unittest

from _support import SRC, modfilter


class PackageTest(unittest.TestCase):
    def test_help_reads_well(self):
        text = pydoc.render_doc(modfilter, renderer=pydoc.plaintext)
        for word in ("Engine", "scan_many", "Verdict", "RulesError", "Action"):
            self.assertIn(word, text)
        text = pydoc.render_doc(modfilter.Engine.scan, renderer=pydoc.plaintext)
        self.assertIn("author_role", text)
        self.assertIn("censor", text)

    def test_py_typed(self):
        self.assertTrue(os.path.exists(os.path.join(SRC, "modfilter", "py.typed")))

    def test_wheel_contents(self):
        import importlib.util
        import tempfile
        import zipfile

        path = os.path.join(os.path.dirname(SRC), "buildsys", "modfilter_build.py")
        spec = importlib.util.spec_from_file_location("modfilter_build", path)
        backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backend)
        with tempfile.TemporaryDirectory() as tmp:
            name = backend.build_wheel(tmp)
            with zipfile.ZipFile(os.path.join(tmp, name)) as zf:
                names = set(zf.namelist())
                record = zf.read("modfilter-%s.dist-info/RECORD" % modfilter.__version__).decode()
                buildinfo = zf.read("modfilter/_buildinfo.py").decode()
        for f in ("modfilter/__init__.py", "modfilter/_engine.py", "modfilter/_native.py", "modfilter/py.typed"):
            self.assertIn(f, names)
            self.assertIn(f + ",sha256=", record)
        self.assertFalse(any("__pycache__" in n for n in names))
        root = os.path.dirname(os.path.dirname(os.path.dirname(SRC)))
        self.assertIn(repr(root), buildinfo)

    def test_import_does_not_need_the_library(self):
        env = dict(os.environ, MODFILTER_LIBRARY="/nonexistent/libmodfilter.so", PYTHONPATH=SRC)
        code = (
            "import modfilter\n"
            "try:\n"
            "    modfilter.Engine()\n"
            "except modfilter.LibraryNotFound as e:\n"
            "    print('missing:', e)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        self.assertIn("missing:", out.stdout)
        self.assertIn("/nonexistent/libmodfilter.so", out.stdout)
        self.assertIn("MODFILTER_LIBRARY", out.stdout)

    def test_enum_values_match_the_c_header(self):
        header = os.path.join(SRC, "..", "..", "..", "capi", "include", "modfilter", "modfilter.h")
        if not os.path.exists(header):
            self.skipTest("not in a checkout")
        with open(header, encoding="utf-8") as f:
            text = f.read()
        import re

        defines = {k: v.rstrip("uU") for k, v in re.findall(r"#define (MF_\w+) \(?(-?\w+)\)?", text)}
        for a in modfilter.Action:
            self.assertEqual(int(defines["MF_ACTION_" + a.name]), a.value)
        for r in modfilter.Role:
            self.assertEqual(int(defines["MF_ROLE_" + r.name]), r.value)
        for s in modfilter.Severity:
            self.assertEqual(int(defines["MF_SEVERITY_" + s.name]), s.value)
        for e in modfilter.Evasion:
            if e.name != "NONE":
                self.assertEqual(int(defines["MF_EVASION_" + e.name], 16), e.value)
        from modfilter._engine import _EVASION_BY_NAME

        lib = modfilter._native.lib()
        for name, e in _EVASION_BY_NAME.items():
            self.assertEqual(lib.mf_evasion_name(int(e)).decode(), name)
        codes = {k: int(v) for k, v in defines.items() if k.startswith("MF_E_")}
        from modfilter._types import ERRORS

        self.assertEqual(sorted(codes.values()), sorted(ERRORS))


if __name__ == "__main__":
    unittest.main()
