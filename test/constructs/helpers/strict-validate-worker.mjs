// Strict schema validation of Kubernetes objects, run as a child process because kubernetes-models ships ES modules
// only and Jest runs tests as CommonJS. Reads a JSON array of objects on stdin, writes a JSON array of error lists.
//
// kubernetes-models' validators are compiled ajv code that accept unknown fields. Each object is wrapped in proxies
// that record which properties the validator reads: a validator reads every property its schema declares, and
// enumerates the keys of maps (labels, resources.limits). A key that was neither read nor enumerated is a field the
// schema does not know, which the API server's strict field validation would reject.

/** The package holding the models of each API group; the core group is the empty string. */
const packageOfGroup = (group) => {
  if (group === 'monitoring.coreos.com') return '@kubernetes-models/prometheus-operator';
  if (group.endsWith('cert-manager.io')) return '@kubernetes-models/cert-manager';
  return 'kubernetes-models';
};

async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return { error: 'apiVersion and kind must be strings' };
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const specifier = group === '' ? `kubernetes-models/${version}` : `${packageOfGroup(group)}/${group}/${version}`;
  let module;
  try {
    module = await import(specifier);
  } catch {
    return { error: `no schema for apiVersion ${apiVersion}` };
  }
  const model = module[kind];
  if (typeof model !== 'function' || typeof model.prototype.validate !== 'function') {
    return { error: `no schema for ${kind} in ${apiVersion}` };
  }
  return { model };
}

/** Wraps every plain object and array of `value` in a recording proxy; returns the proxy and its records. */
function instrument(value, path, records) {
  if (value === null || typeof value !== 'object') return value;
  const target = Array.isArray(value) ? [] : {};
  const record = { path, reads: new Set(), enumerated: false, isArray: Array.isArray(value), keys: Object.keys(value) };
  records.push(record);
  for (const [key, child] of Object.entries(value)) target[key] = instrument(child, `${path}/${key}`, records);
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string') record.reads.add(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      if (typeof key === 'string') record.reads.add(key);
      return Reflect.has(t, key);
    },
    ownKeys(t) {
      record.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

function unknownFields(records) {
  const errors = [];
  for (const record of records) {
    // Arrays have no fields; a map is enumerated; an object whose schema is free-form is never looked into.
    if (record.isArray || record.enumerated || record.reads.size === 0) continue;
    for (const key of record.keys) {
      if (!record.reads.has(key)) errors.push(`${record.path || '/'}: unknown field "${key}"`);
    }
  }
  return errors;
}

async function validateOne(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return ['not an object'];
  const { model, error } = await modelFor(object.apiVersion, object.kind);
  if (error) return [error];
  const records = [];
  const proxy = instrument(object, '', records);
  const errors = [];
  try {
    // The model's validate() runs the compiled schema on `this`, so it can run on the proxy directly.
    model.prototype.validate.call(proxy);
  } catch (e) {
    errors.push(...String(e.message).split(', '));
  }
  return [...errors, ...unknownFields(records)];
}

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const objects = JSON.parse(input);
const results = [];
for (const object of objects) results.push(await validateOne(object));
process.stdout.write(JSON.stringify(results));
