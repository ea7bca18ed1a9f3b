import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { EACH_OBJECT } from './field-rules';

const API = join(__dirname, '..');

/** Every DTO and controller file of the api (a body or query class can live in either). */
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(dto|controller)\.ts$/.test(entry.name) ? [path] : [];
  });

/** The rule names class-validator holds for each validated property of `target`. */
const rulesOf = (target: Function): Map<string, Set<string>> => {
  const storage = getMetadataStorage();
  const rules = new Map<string, Set<string>>();
  for (const m of storage.getTargetValidationMetadatas(target, '', true, false)) {
    const names = rules.get(m.propertyName) ?? new Set<string>();
    if (m.type === ValidationTypes.NESTED_VALIDATION) names.add('nested');
    else if (m.type === ValidationTypes.CUSTOM_VALIDATION) for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) names.add(c.name ?? '');
    rules.set(m.propertyName, names);
  }
  return rules;
};

const dtoClasses = sources(API).flatMap((file) =>
  Object.entries(require(file) as Record<string, unknown>)
    .filter((entry): entry is [string, Function] => typeof entry[1] === 'function' && /(Dto|Query)$/.test(entry[0]))
    .map(([name, cls]): [string, Function] => [`${relative(API, file)} ${name}`, cls]),
);

/** Nested shapes and sizes are checked the same way in every DTO (invariant 13): the test names each property that is not. */
describe('the rules of every api DTO', () => {
  it('finds the DTOs', () => {
    expect(dtoClasses.map(([name]) => name.split(' ')[1])).toEqual(expect.arrayContaining(['ImportClaudeCodeDto', 'ParsedTranscriptDto', 'RegisterProjectDto', 'SpawnSessionDto']));
  });

  it('declares each nested object or array of objects through NestedObject or NestedArray (present, an object, each item an object, a size limit)', () => {
    const loose: string[] = [];
    for (const [name, cls] of dtoClasses) {
      for (const [property, rules] of rulesOf(cls)) {
        if (!rules.has('nested')) continue;
        const single = rules.has('isObject');
        const array = rules.has('isArray') && rules.has(EACH_OBJECT) && rules.has('arrayMaxSize');
        if (!single && !array) loose.push(`${name}.${property}`);
      }
    }
    expect(loose).toEqual([]);
  });

  it('bounds every array and every string it reads (a named size limit, not only the body limit)', () => {
    const unbounded: string[] = [];
    for (const [name, cls] of dtoClasses) {
      for (const [property, rules] of rulesOf(cls)) {
        if (rules.has('isArray') && !rules.has('arrayMaxSize')) unbounded.push(`${name}.${property} (array)`);
        if (rules.has('isString') && !rules.has('maxLength')) unbounded.push(`${name}.${property} (string)`);
      }
    }
    expect(unbounded).toEqual([]);
  });

  it("takes IsOptional from field-rules (absent only), never class-validator's (which lets null pass as absent)", () => {
    const nullPasses = sources(API).filter((file) => /import \{[^}]*\bIsOptional\b[^}]*\} from 'class-validator'/.test(readFileSync(file, 'utf8')));
    expect(nullPasses.map((file) => relative(API, file))).toEqual([]);
  });
});
