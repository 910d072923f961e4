// schema.js: a small JSON Schema check of an output typed by a person,
// before it is sent: types, required and unknown properties, items, enums
// and bounds, which is what schemas reflected from Go types use. The server
// checks the output fully and has the last word.

const typeOf = (value) => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

function fits(type, actual) {
  return type === actual || (type === 'number' && actual === 'integer');
}

/** validate returns what is wrong with value under schema, each naming its path; empty when it fits. */
export function validate(schema, value, path = '$') {
  if (schema === true || schema === undefined || schema === null) return [];
  if (schema === false) return [path + ' is not allowed'];
  const problems = [];
  const actual = typeOf(value);
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => fits(t, actual))) return [`${path} is ${actual}, want ${types.join(' or ')}`];
  }
  if (schema.enum && !schema.enum.some((v) => JSON.stringify(v) === JSON.stringify(value))) {
    problems.push(`${path} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) problems.push(`${path} must be ${JSON.stringify(schema.const)}`);
  if (actual === 'object') {
    for (const name of schema.required || []) if (!(name in value)) problems.push(`${path}.${name} is missing`);
    const properties = schema.properties || {};
    for (const [name, item] of Object.entries(value)) {
      if (name in properties) problems.push(...validate(properties[name], item, path + '.' + name));
      else if (schema.additionalProperties === false) problems.push(`${path}.${name} is not a known property`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(schema.additionalProperties, item, path + '.' + name));
    }
  }
  if (actual === 'array') {
    if (schema.items) value.forEach((item, i) => problems.push(...validate(schema.items, item, `${path}[${i}]`)));
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${path} needs at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${path} takes at most ${schema.maxItems} items`);
  }
  if (actual === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path} is shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path} is longer than ${schema.maxLength}`);
  }
  if (actual === 'integer' || actual === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path} is below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path} is above ${schema.maximum}`);
  }
  for (const sub of schema.allOf || []) problems.push(...validate(sub, value, path));
  if (schema.anyOf && !schema.anyOf.some((sub) => validate(sub, value, path).length === 0)) problems.push(`${path} fits none of the allowed shapes`);
  if (schema.oneOf && schema.oneOf.filter((sub) => validate(sub, value, path).length === 0).length !== 1) problems.push(`${path} must fit exactly one of the allowed shapes`);
  return problems;
}
