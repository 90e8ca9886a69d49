/**
 * Surrogates by name for the neurons: the built-in table (kernels/surrogate.ts, whose ids the fused
 * kernels share) looked up by name, or a user-supplied derivative.
 */
import { EdgespikeError } from '../util/errors.js';
import { SURROGATES, type Surrogate, type SurrogateName } from '../kernels/surrogate.js';

export { SURROGATES, type Surrogate, type SurrogateName };

/** A surrogate given by name, or a user-supplied one. */
export type SurrogateSpec = SurrogateName | Surrogate;

/** Looks up a surrogate; unknown names get an error listing the known ones. */
export function surrogate(spec: SurrogateSpec): Surrogate {
  if (typeof spec !== 'string') return spec;
  const s = (SURROGATES as Record<string, Surrogate>)[spec];
  if (!s) throw new EdgespikeError(`surrogate: unknown name "${spec}" (known: ${Object.keys(SURROGATES).join(', ')})`);
  return s;
}

/** A user-supplied surrogate from its derivative (and optionally its primitive and support). */
export function customSurrogate(grad: (u: number, alpha: number) => number, opts: Partial<Omit<Surrogate, 'grad' | 'id'>> = {}): Surrogate {
  return {
    grad,
    primitive: opts.primitive ?? (() => { throw new EdgespikeError('surrogate: this custom surrogate has no primitive'); }),
    support: opts.support ?? (() => Infinity),
    alpha: opts.alpha ?? 1,
  };
}
