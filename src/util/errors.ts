/**
 * The one error type for bad input. Its message is a single line naming the op, argument or file,
 * what was expected and what was seen. The CLI prints it without a stack trace and exits non-zero;
 * any other exception is a bug and keeps its stack.
 */
export class EdgespikeError extends Error {
  /** Process exit code the CLI uses for this error (2: bad input or usage). */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'EdgespikeError';
    this.exitCode = exitCode;
  }
}

/** Formats a shape for messages: [2, 3, 4]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
