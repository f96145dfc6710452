#!/usr/bin/env python3
"""Classifies one seed's run of failalloc_tests (see run): Check's verbose
lines give each test's result, the ASan/LSan log files the sanitizer
reports. Prints the seed's figures and every defect; exits 1 on a defect."""
import glob, re, sys

seed, d = sys.argv[1], sys.argv[2]
text = open(d + "/out", errors="replace").read()
# file:line:R:tcase:test:iter: message, R = P (passed), F (assertion), E (error)
res = {}
for m in re.finditer(r"^[^\n:]+:-?\d+:([PFE]):([^:\n]+):([^:\n]+):(\d+): ?(.*)$", text, re.M):
    key = m.group(3) if m.group(4) == "0" else m.group(3) + "#" + m.group(4)
    res[key] = (m.group(1), m.group(5))
stats = re.search(r"failalloc: seed \S+: (\d+) allocations, (\d+) failed", text)
passed = sum(1 for r in res.values() if r[0] == "P")
failed = sum(1 for r in res.values() if r[0] == "F")
defects = []
crashes = 0
for name, (r, msg) in sorted(res.items()):
    if r != "E":
        continue
    if "Received signal" in msg:
        crashes += 1
        defects.append("%s: crash: %s" % (name, msg))
    elif "timeout" in msg.lower():
        defects.append("%s: hang: %s" % (name, msg))
    elif "return value 97" in msg:
        pass  # an ASan/LSan report: its log file says which, below
    elif "return value 98" in msg:
        defects.append("%s: UBSan runtime error (its report is in %s/out)" % (name, d))
    else:
        # an error Check reports itself (e.g. early exit): a defect too
        defects.append("%s: error: %s" % (name, msg))
leaks_after_failure = 0
for f in sorted(glob.glob(d + "/asan*")):
    rep = open(f, errors="replace").read()
    # the tests whose functions appear in the report's stacks
    tests = set(re.findall(r" in (\w+)_fn ", rep))
    if "ERROR: LeakSanitizer" in rep and "ERROR: AddressSanitizer" not in rep \
            and "runtime error" not in rep:
        if tests and all(res.get(t, ("?",))[0] == "F" for t in tests):
            leaks_after_failure += 1  # a test stopped by its assertion
            continue
        defects.append("leak in %s: %s" % (",".join(sorted(tests)) or "?", f))
    else:
        defects.append("sanitizer report in %s: %s" % (",".join(sorted(tests)) or "?", f))
print("failalloc: seed %s: %s allocations, %s failed; tests %d passed, %d failed "
      "their assertions; %d crashes, %d defects (%d leaks after a failed assertion, "
      "not counted)" % (seed, stats.group(1) if stats else "?",
                        stats.group(2) if stats else "?", passed, failed, crashes,
                        len(defects), leaks_after_failure))
if not stats:
    defects.append("the run did not finish (no totals line): see %s/out" % d)
for x in defects:
    print("  DEFECT " + x)
sys.exit(1 if defects else 0)
