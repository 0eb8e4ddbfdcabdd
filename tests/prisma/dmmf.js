// Reads a schema.prisma with Prisma's own parser (@prisma/prisma-schema-wasm) and prints, as JSON, whether
// it validates (and Prisma's message when not) and the data model Prisma Client would be generated from:
// each model's table and each field's column, type and native type.
const fs = require("fs");
const wasm = require("@prisma/prisma-schema-wasm");

const schema = fs.readFileSync(process.argv[2], "utf8");
const files = JSON.stringify({ prismaSchema: [["schema.prisma", schema]], noColorErrors: true });
try {
  wasm.validate(files);
} catch (e) {
  const text = String(e).replace(/^Error: /, "");
  let message = text;
  try { message = JSON.parse(text).message; } catch (_) { /* not JSON: keep it whole */ }
  console.log(JSON.stringify({ valid: false, error: message }));
  process.exit(0);
}
const dmmf = JSON.parse(wasm.get_dmmf(files)).datamodel;
console.log(JSON.stringify({
  valid: true,
  enums: dmmf.enums.map((e) => ({ name: e.name, dbName: e.dbName, values: e.values.map((v) => v.dbName || v.name) })),
  models: dmmf.models.map((m) => ({
    name: m.name,
    dbName: m.dbName || m.name,
    fields: m.fields.map((f) => ({
      name: f.name, column: f.dbName || f.name, kind: f.kind, type: f.type, nativeType: f.nativeType,
      isList: f.isList, isRequired: f.isRequired,
    })),
  })),
}));
