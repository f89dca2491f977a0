// Checks JSON values against the models of Segment's official Public API client.
// stdin: [{"model": "DestinationMetadataV1", "value": {...}, "label": "..."}]
// stdout: one line per problem; exit status 1 if there is any.
// Types and field names come from each model's attributeTypeMap; which fields are optional comes
// from the model's TypeScript source (`'name'?:`), shipped in the package's model/ folder.
const fs = require('fs');
const path = require('path');
const sdk = require('@segment/public-api-sdk-typescript');

const modelDir = path.join(path.dirname(require.resolve('@segment/public-api-sdk-typescript/package.json')), 'model');
const fieldInfo = {};

function declaredFields(model) {
  if (!fieldInfo[model]) {
    const file = path.join(modelDir, model[0].toLowerCase() + model.slice(1) + '.ts');
    const source = fs.readFileSync(file, 'utf8');
    const info = {};
    for (const m of source.matchAll(/^\s+'(\w+)'(\?)?: ([^;]+);/gm)) {
      info[m[1]] = { optional: !!m[2], nullable: /\|\s*null/.test(m[3]) };
    }
    fieldInfo[model] = info;
  }
  return fieldInfo[model];
}

function check(value, type, where, problems) {
  if (type === 'any' || type === 'object') return;
  const array = type.match(/^Array<(.+)>$/);
  if (array) {
    if (!Array.isArray(value)) return problems.push(`${where}: expected an array`);
    return value.forEach((v, i) => check(v, array[1], `${where}[${i}]`, problems));
  }
  const map = type.match(/^\{ \[key: string\]: (.+); \}$/);
  if (map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return problems.push(`${where}: expected an object`);
    return Object.entries(value).forEach(([k, v]) => check(v, map[1], `${where}.${k}`, problems));
  }
  if (['string', 'boolean', 'number'].includes(type)) {
    if (typeof value !== type) problems.push(`${where}: expected ${type}, got ${JSON.stringify(value)}`);
    return;
  }
  const [model, enumName] = type.split('.');
  if (enumName) {
    const allowed = Object.values(sdk[model][enumName]);
    if (!allowed.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} is not one of ${allowed}`);
    return;
  }
  const cls = sdk[model];
  if (!cls || !cls.getAttributeTypeMap) return problems.push(`${where}: unknown SDK type ${type}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return problems.push(`${where}: expected ${model} object`);
  const declared = declaredFields(model);
  const known = new Set();
  for (const attr of cls.getAttributeTypeMap()) {
    known.add(attr.baseName);
    const info = declared[attr.name] || { optional: true, nullable: true };
    if (!(attr.baseName in value)) {
      if (!info.optional) problems.push(`${where}.${attr.baseName}: required by ${model}, missing`);
      continue;
    }
    const v = value[attr.baseName];
    if (v === null) {
      if (!info.nullable) problems.push(`${where}.${attr.baseName}: null where ${model} does not allow it`);
      continue;
    }
    check(v, attr.type, `${where}.${attr.baseName}`, problems);
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`${where}.${key}: not a field of ${model}`);
  }
}

const items = JSON.parse(fs.readFileSync(0, 'utf8'));
const problems = [];
for (const item of items) check(item.value, item.model, item.label || item.model, problems);
for (const p of problems) console.log(p);
console.error(`checked ${items.length} values, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
