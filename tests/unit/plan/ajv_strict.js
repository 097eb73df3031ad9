// Compile a JSON Schema with ajv in strict mode (every strict option on), then validate data files.
// Usage: node ajv_strict.js SCHEMA [DATA.json ...]; NODE_PATH names the node_modules holding ajv.
// Prints one JSON line per data file: {"file", "valid", "errors": [{"path", "keyword", "message"}]}.
// Exit 3 if the schema does not compile (the reason on stderr).
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const [schemaPath, ...dataPaths] = process.argv.slice(2);
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
let validate;
try {
  validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(3);
}
for (const file of dataPaths) {
  const valid = validate(JSON.parse(fs.readFileSync(file, "utf8")));
  const errors = (validate.errors || []).map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message }));
  process.stdout.write(JSON.stringify({ file, valid, errors }) + "\n");
}
