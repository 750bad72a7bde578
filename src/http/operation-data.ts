import { TypeCompiler } from '@sinclair/typebox/compiler';
import { InvalidRequest } from '../core/errors.js';
import { OPERATION_TYPES, OperationData } from '../core/operations.js';

/**
 * Validates operation data against the schema of its own type, so that an error names the exact field
 * ("data/amount/value must be an integer") instead of the noise a union of twelve schemas produces.
 */
const checkers = new Map(
  OperationData.anyOf.map((schema) => [(schema.properties.type as { const: string }).const, TypeCompiler.Compile(schema)]),
);

export function parseOperationData(raw: unknown, prefix = 'data'): OperationData {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidRequest('ERR_VALIDATION', `${prefix} must be an object.`, { field: prefix });
  }
  const type = (raw as { type?: unknown }).type;
  const checker = typeof type === 'string' ? checkers.get(type) : undefined;
  if (!checker) {
    throw new InvalidRequest('ERR_VALIDATION', `${prefix}/type must be one of ${OPERATION_TYPES.join(', ')}.`, { field: `${prefix}/type` });
  }
  const first = checker.Errors(raw).First();
  if (first) {
    const field = `${prefix}${first.path}`;
    throw new InvalidRequest('ERR_VALIDATION', `${field}: ${first.message.toLowerCase()}.`, { field });
  }
  return raw as OperationData;
}
