// Run one ONNX file in onnxruntime-node (the runtime the extension uses) for pos.py's export check.
// Usage: node pos_ort.mjs REQUEST.json, where the request is {model, feeds: {name: {type, dims, data}}, outputs: [..]};
// prints {name: {dims, data}} for the requested outputs.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../package.json'));
const ort = require('onnxruntime-node');
const req = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const session = await ort.InferenceSession.create(req.model);
const feeds = {};
for (const [name, f] of Object.entries(req.feeds)) {
  const data = f.type === 'int64' ? BigInt64Array.from(f.data, (v) => BigInt(v)) : Float32Array.from(f.data);
  feeds[name] = new ort.Tensor(f.type, data, f.dims);
}
const out = await session.run(feeds, req.outputs);
const res = {};
for (const name of req.outputs) res[name] = { dims: out[name].dims, data: Array.from(out[name].data) };
process.stdout.write(JSON.stringify(res));
