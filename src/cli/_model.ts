/** `--model NAME|SPEC` for the commands: a zoo name, or a spec in the notation (errors name the flag). */
import { EdgespikeError } from '../util/errors.js';
import { zoo, zooNames } from '../models/zoo.js';
import { parseSpec } from '../notation/parse.js';
import { isWeighted, type ModelSpec } from '../notation/spec.js';

/** The spec of a zoo model (with its input shape) or of a spec string (input undefined). */
export function resolveModel(name: string): { spec: ModelSpec; input?: readonly [number, number, number]; zoo: boolean } {
  if ((zooNames() as string[]).includes(name)) { const z = zoo(name); return { spec: z.spec, input: z.input, zoo: true }; }
  let spec: ModelSpec;
  try {
    spec = parseSpec(name);
  } catch (e) {
    if (e instanceof EdgespikeError) throw new EdgespikeError(`--model: "${name}" is neither a zoo name (${zooNames().join(', ')}) nor a valid spec: ${e.message}`);
    throw e;
  }
  if (!spec.layers.some(isWeighted)) throw new EdgespikeError(`--model: "${name}" has no conv or dense layer (e.g. 16C5-P2-10)`);
  return { spec, zoo: false };
}
