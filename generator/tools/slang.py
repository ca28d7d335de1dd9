"""slang's command line on the pyslang wheel.

The wheel has slang's driver but no `slang` program; this script is one, with
the same arguments (`--top`, `-y`, `-I`, `-W...`, files) and the same report
("Build succeeded: 0 errors, 0 warnings"), exiting 1 when there are errors.
setup.sh installs it as `slang` in the tools' virtual environment, where
ttfs_tools::Tool::Slang finds it.
"""

import shlex
import sys

import pyslang


def main(argv):
    if argv == ["--version"]:
        # The driver has no --version (slang's own program answers it).
        print(f"slang (pyslang {pyslang.__version__})")
        return 0
    driver = pyslang.driver.Driver()
    driver.addStandardArgs()
    if not driver.parseCommandLine(shlex.join(["slang"] + argv), pyslang.driver.CommandLineOptions()):
        return 2
    if not driver.processOptions():
        return 2
    parsed = driver.parseAllSources()
    compiled = driver.runFullCompilation(False)
    return 0 if parsed and compiled else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
