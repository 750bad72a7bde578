import { Type, type TObject } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
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
  // The compiled check first: listing errors walks the value slowly, and only a refusal needs them.
  const first = checker.Check(raw) ? undefined : checker.Errors(raw).First();
  if (first) {
    const field = `${prefix}${first.path}`;
    throw new InvalidRequest('ERR_VALIDATION', `${field}: ${first.message.toLowerCase()}.`, { field });
  }
  return raw as OperationData;
}

/**
 * A Fastify validator for bodies that carry operation data: the rest of the body is checked against
 * `schema` with `data` left open, then `data` against its own type's schema. The OpenAPI document still
 * shows the full schema.
 */
export function bodyWithOperationData(schema: TObject, dataField = 'data', optional = false) {
  const relaxed = TypeCompiler.Compile(
    Type.Object(
      { ...schema.properties, [dataField]: optional ? Type.Optional(Type.Unknown()) : Type.Unknown() },
      { additionalProperties: false },
    ),
  );
  return () => (body: unknown) => {
    const first = relaxed.Check(body) ? undefined : relaxed.Errors(body).First();
    if (first) {
      const field = first.path.replace(/^\//, '') || 'body';
      const detail =
        first.type === ValueErrorType.ObjectAdditionalProperties
          ? `${field} is not an accepted field.`
          : first.type === ValueErrorType.ObjectRequiredProperty
            ? `${field} is required.`
            : `${field}: ${first.message.toLowerCase()}.`;
      return { error: new InvalidRequest('ERR_VALIDATION', detail, { field }) };
    }
    const data = (body as Record<string, unknown>)[dataField];
    if (data === undefined && optional) return { value: body };
    try {
      parseOperationData(data, dataField);
      return { value: body };
    } catch (e) {
      return { error: e as Error };
    }
  };
}
