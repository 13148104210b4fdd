// -only / -except: which builds and post-processors run, by name, with Packer's glob rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatches, keepsPostProcessor, selectBuildNames, selectBuilds, unmatchedPatterns } from '../../src/template/select.js';
import { selectionFromArgv } from '../../src/template/options.js';
import { TemplateError } from '../../src/template/errors.js';

test('globs as gobwas/glob reads them: * ? [..] [!..] {a,b} and \\ escapes; no path separators', () => {
  const cases: [string, string, boolean][] = [
    ['web-1', 'web-1', true],
    ['web-1', 'web-10', false],
    ['web-*', 'web-10', true],
    ['*', 'source.scaleway.web', true],
    ['source.*', 'source.scaleway.web', true],
    ['*.web', 'source.scaleway.web', true],
    ['*.web', 'source.scaleway.db', false],
    ['web-?', 'web-1', true],
    ['web-?', 'web-12', false],
    ['web-[12]', 'web-2', true],
    ['web-[12]', 'web-3', false],
    ['web-[a-c]', 'web-b', true],
    ['web-[!12]', 'web-3', true],
    ['web-[!12]', 'web-1', false],
    ['{web,db}-1', 'db-1', true],
    ['{web,db}-1', 'cache-1', false],
    ['web\\*', 'web*', true],
    ['web\\*', 'web-1', false],
    ['a.b', 'axb', false],
    ['(x)|y+', '(x)|y+', true],
  ];
  for (const [pattern, name, expected] of cases) assert.equal(globMatches(pattern, name), expected, `${pattern} vs ${name}`);
});

test('-only keeps the builds it matches; -except drops them; both together; template order kept', () => {
  const names = ['web-1', 'web-2', 'db-1'];
  assert.deepEqual(selectBuildNames(names, { only: [], except: [] }), names);
  assert.deepEqual(selectBuildNames(names, { only: ['db-1', 'web-1'], except: [] }), ['web-1', 'db-1']);
  assert.deepEqual(selectBuildNames(names, { only: ['web-*'], except: [] }), ['web-1', 'web-2']);
  assert.deepEqual(selectBuildNames(names, { only: [], except: ['web-*'] }), ['db-1']);
  assert.deepEqual(selectBuildNames(names, { only: ['web-*'], except: ['web-2'] }), ['web-1']);
});

test('post-processors: -except skips them by name (their type when unnamed); -only never does', () => {
  assert.equal(keepsPostProcessor('manifest', { only: ['web-1'], except: [] }), true);
  assert.equal(keepsPostProcessor('manifest', { only: [], except: ['manifest'] }), false);
  assert.equal(keepsPostProcessor('shell-local', { only: [], except: ['shell-*'] }), false);
  assert.equal(keepsPostProcessor('upload', { only: [], except: ['web-1'] }), true);
});

test('a pattern that matches nothing is an error with the nearest name (Packer 1.6.6 would build nothing and exit 0)', () => {
  const problems = unmatchedPatterns({ only: ['web1'], except: ['manifset'] }, ['web-1', 'db-1'], ['manifest']);
  assert.deepEqual(
    problems.map((p) => [p.path, p.hint]),
    [
      ['-only=web1', 'did you mean "web-1"? the names are "web-1", "db-1"'],
      ['-except=manifset', 'did you mean "manifest"? the names are "web-1", "db-1", "manifest"'],
    ],
  );
  // -only is about builds: a post-processor's name is not one.
  assert.equal(unmatchedPatterns({ only: ['manifest'], except: [] }, ['web-1'], ['manifest']).length, 1);
  assert.deepEqual(unmatchedPatterns({ only: ['web-*'], except: ['manifest'] }, ['web-1'], ['manifest']), []);
});

test('selectBuilds filters build specs, and refuses a selection that leaves nothing to run', () => {
  const builds = [{ name: 'web-1' }, { name: 'db-1' }];
  assert.deepEqual(selectBuilds(builds, { only: ['db-*'], except: [] }), [{ name: 'db-1' }]);
  assert.throws(() => selectBuilds(builds, { only: [], except: ['*'] }), (e: unknown) => e instanceof TemplateError && /no build to run/.test(e.message));
  assert.throws(() => selectBuilds(builds, { only: ['cache'], except: [] }), TemplateError);
});

test('-only=a,b -only c: comma-separated and repeatable; a comma inside {…} belongs to the glob', () => {
  assert.deepEqual(selectionFromArgv({ only: ['a,b', 'c'], except: ['{web,db}-1,x'] }), { only: ['a', 'b', 'c'], except: ['{web,db}-1', 'x'] });
  assert.deepEqual(selectionFromArgv({}), { only: [], except: [] });
});
