/**
 * The restricted unpickler (src/interop/pickle.ts + torchGlobals.ts): data opcodes give
 * the right values; code-running pickles are refused before any callable is reached.
 * Every malicious byte string is written by hand (no Python needed).
 */
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unpickle, UnsafePickleError, PickleError, type PyGlobal } from '../../src/util/pickle';
import { resolveTorchGlobal } from '../../src/interop/torchGlobals';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';

const enc = new TextEncoder();
/** Concatenates byte pieces; strings are latin1/ASCII opcode text. */
function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === 'string' ? Uint8Array.from(p, (c) => c.charCodeAt(0)) : Uint8Array.from(p),
  );
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const binunicode = (s: string): Uint8Array => bytes('X', u32(enc.encode(s).length), enc.encode(s));

/** Resolver that records every lookup, so tests can prove nothing else was reached. */
function torchResolver() {
  const asked: string[] = [];
  let persisted = 0;
  return {
    asked,
    persisted: () => persisted,
    opts: {
      resolveGlobal: (m: string, n: string): PyGlobal => {
        asked.push(`${m}.${n}`);
        return resolveTorchGlobal(m, n, 'test.pkl');
      },
      persistentLoad: () => {
        persisted++;
        return { key: '0', dtype: 'float32', numel: 1, location: 'cpu' };
      },
    },
  };
}

describe('malicious pickles are refused', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    [
      // pickle.dumps(E(), protocol=2) for E.__reduce__ = (os.system, ('echo pwned',))
      'os.system via GLOBAL + REDUCE (protocol 2)',
      bytes('\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.'),
      /refusing global 'posix\.system'/,
    ],
    [
      'os.system, protocol 0 text',
      bytes("cos\nsystem\n(S'echo pwned'\ntR."),
      /refusing global 'os\.system'/,
    ],
    [
      'builtins.eval',
      bytes('\x80\x02cbuiltins\neval\n', binunicode('__import__("os").system("id")'), '\x85R.'),
      /refusing global 'builtins\.eval'/,
    ],
    [
      // pickle.dumps(P(), protocol=4) for P.__reduce__ = (subprocess.Popen, (['id'],))
      'subprocess.Popen via STACK_GLOBAL (protocol 4, framed)',
      bytes(
        '\x80\x04\x95$\x00\x00\x00\x00\x00\x00\x00\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93\x94]\x94\x8c\x02id\x94a\x85\x94R\x94.',
      ),
      /refusing global 'subprocess\.Popen'/,
    ],
    [
      'builtins.getattr (attribute walk to anything)',
      bytes('\x80\x02cbuiltins\ngetattr\n.'),
      /refusing global 'builtins\.getattr'/,
    ],
    [
      'torch.load is not a tensor constructor',
      bytes('\x80\x02ctorch\nload\n.'),
      /refusing global 'torch\.load'/,
    ],
    [
      'a lookalike module name',
      bytes('\x80\x02ccollections.OrderedDict\n__init__\n.'),
      /refusing global/,
    ],
    ['INST (class + args from the stack)', bytes('(', binunicode('id'), 'ios\nsystem\n.'), /INST/],
    ['OBJ, even on an allowed class', bytes('(cargparse\nNamespace\no.'), /OBJ/],
    ['EXT1 (extension registry)', bytes('\x80\x02\x82\x01.'), /EXT1/],
    ['NEWOBJ_EX', bytes('\x80\x04cargparse\nNamespace\n)}\x92.'), /NEWOBJ_EX/],
    ['REDUCE on a non-callable', bytes('\x80\x02', binunicode('x'), ')R.'), /REDUCE on string/],
    ['NEWOBJ on a non-class global', bytes('\x80\x02ccollections\nOrderedDict\n)\x81.'), /NEWOBJ/],
    [
      '_codecs.encode with another codec',
      bytes('\x80\x02c_codecs\nencode\n', binunicode('x'), binunicode('rot13'), '\x86R.'),
      /only \(str, 'latin1'\)/,
    ],
  ];

  it.each(cases)('%s', (_name, data, message) => {
    const r = torchResolver();
    let err: unknown;
    try {
      unpickle(data, { ...r.opts, source: 'test.pkl' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as Error).message).toMatch(message);
    expect(r.persisted()).toBe(0);
  });

  it('refuses at GLOBAL: later opcodes (persistent loads, REDUCE) are never reached', () => {
    const r = torchResolver();
    const data = bytes('\x80\x02(cos\nsystem\n', binunicode('0'), 'QtR.');
    expect(() => unpickle(data, r.opts)).toThrow(UnsafePickleError);
    expect(r.asked).toEqual(['os.system']);
    expect(r.persisted()).toBe(0);
  });

  it('refuses a malicious data.pkl inside a .pth, naming the file and the global', () => {
    const pth = zipSync(
      {
        'archive/data.pkl': bytes('\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.'),
        'archive/version': enc.encode('3\n'),
      },
      { level: 0 },
    );
    expect(() => loadTorchCheckpoint(pth)).toThrow(
      /checkpoint:archive\/data\.pkl: refusing global 'posix\.system'/,
    );
  });

  it('refuses storage keys that could escape the archive folder', () => {
    const pkl = bytes(
      '\x80\x02}(',
      binunicode('w'),
      'ctorch._utils\n_rebuild_tensor_v2\n((',
      binunicode('storage'),
      'ctorch\nFloatStorage\n',
      binunicode('../../etc/passwd'),
      binunicode('cpu'),
      'K\x01tQK\x00K\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu.',
    );
    const pth = zipSync({ 'archive/data.pkl': pkl }, { level: 0 });
    expect(() => loadTorchCheckpoint(pth)).toThrow(/storage key .* is not a plain name/);
  });
});

describe('inertGlobals: unknown names as data, never callable', () => {
  // {'teacher': OrderedDict{'w': float32[1]}, 'optimizer': {'filter': __main__.exclude_bias_and_norm}}
  const pkl = bytes(
    '\x80\x02}(',
    binunicode('teacher'),
    'ccollections\nOrderedDict\n)R(',
    binunicode('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n((',
    binunicode('storage'),
    'ctorch\nFloatStorage\n',
    binunicode('0'),
    binunicode('cpu'),
    'K\x01tQK\x00K\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu',
    binunicode('optimizer'),
    '}(',
    binunicode('filter'),
    'c__main__\nexclude_bias_and_norm\nuu.',
  );
  const pth = zipSync(
    { 'archive/data.pkl': pkl, 'archive/data/0': new Uint8Array(new Float32Array([2.5]).buffer) },
    { level: 0 },
  );

  it('refuses the reference by default, with a hint', () => {
    expect(() => loadTorchCheckpoint(pth)).toThrow(
      /refusing global '__main__\.exclude_bias_and_norm'.*'inertGlobals' option/,
    );
  });

  it('reads it as a plain name when asked', () => {
    const c = loadTorchCheckpoint(pth, { inertGlobals: true });
    expect(c.tensors.get('w')!.data).toEqual(new Float32Array([2.5]));
    expect(c.meta.other.optimizer).toEqual({
      filter: { global: '__main__.exclude_bias_and_norm' },
    });
  });

  it('still refuses to call it (REDUCE, NEWOBJ, BUILD)', () => {
    const inert = {
      resolveGlobal: (m: string, n: string) => resolveTorchGlobal(m, n, 'x.pkl', true),
    };
    expect(() =>
      unpickle(bytes('\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.'), inert),
    ).toThrow(/REDUCE on global posix\.system is not allowed/);
    expect(() => unpickle(bytes('\x80\x02cos\nPathLike\n)\x81.'), inert)).toThrow(
      /NEWOBJ on global os\.PathLike is not allowed/,
    );
    expect(() => unpickle(bytes('\x80\x02cos\nenviron\n}b.'), inert)).toThrow(/BUILD on a/);
  });
});

describe('data opcodes', () => {
  const plain = { resolveGlobal: (m: string, n: string) => resolveTorchGlobal(m, n) };

  it('reads scalars, strings, containers and memo references', () => {
    const data = bytes(
      '\x80\x02}q\x00(',
      binunicode('ints'),
      '(K\x07M\x00\x01J\xff\xff\xff\xff\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01t',
      binunicode('float'),
      'G\x3f\xd3\x33\x33\x33\x33\x33\x33', // 0.3, big-endian
      binunicode('list'),
      ']q\x01(\x88\x89Ne',
      binunicode('again'),
      'h\x01',
      binunicode('utf8'),
      '\x8c\x04h\xc3\xa9!',
      binunicode('bytes'),
      'C\x02\x00\xff',
      'u.',
    );
    const v = unpickle(data, plain) as Map<string, unknown>;
    expect(v.get('ints')).toEqual([7, 256, -1, 2n ** 64n]);
    expect(Object.isFrozen(v.get('ints'))).toBe(true);
    expect(v.get('float')).toBe(0.3);
    expect(v.get('list')).toEqual([true, false, null]);
    expect(v.get('again')).toBe(v.get('list'));
    expect(v.get('utf8')).toBe('hé!');
    expect(v.get('bytes')).toEqual(new Uint8Array([0, 255]));
  });

  it('builds OrderedDict and argparse.Namespace from the allow-list', () => {
    const data = bytes(
      '\x80\x02ccollections\nOrderedDict\n)R(',
      binunicode('args'),
      'cargparse\nNamespace\n)\x81}(',
      binunicode('lr'),
      'G\x3f\xd3\x33\x33\x33\x33\x33\x33ubu.',
    );
    const v = unpickle(data, plain) as Map<string, { attributes: Map<string, unknown> }>;
    expect(v.get('args')!.attributes.get('lr')).toBe(0.3);
  });

  it.each([
    ['truncated input', bytes('\x80\x02X\xff\x00\x00\x00ab'), /truncated/],
    ['unknown memo index', bytes('\x80\x02h\x05.'), /memo index 5/],
    ['stack underflow', bytes('\x80\x02a.'), /stack underflow/],
    ['no STOP', bytes('\x80\x02N'), /truncated/],
    ['unknown opcode', bytes('\x80\x02\xff.'), /unknown or unsupported opcode 0xff/],
    ['APPEND onto a tuple', bytes('\x80\x02)Na.'), /expected a list/],
  ])('rejects %s with a PickleError', (_n, data, message) => {
    expect(() => unpickle(data, plain)).toThrow(PickleError);
    expect(() => unpickle(data, plain)).toThrow(message);
  });
});
