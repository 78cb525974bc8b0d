/**
 * Domain errors are permanent: retrying cannot change the outcome. Anything else (database, Redis,
 * network) is treated as transient. Only the worker factory turns this into retry-or-not.
 */
export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
