import { describe, expect, it } from 'vitest';
import { FaissRandom, Mt19937, randPerm } from '../../src/search/faissRandom';

// Expected values from C++: std::mt19937 and faiss 1.7.3's RandomGenerator / rand_perm
// (a 10-line program linked against Debian's libfaiss).
describe("faiss's random numbers", () => {
  it('mt19937: the 10 000th output for the default seed 5489 is the C++ standard value', () => {
    const mt = new Mt19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.next();
    expect(v).toBe(4123659995);
  });

  it('RandomGenerator(1234).rand_float(), as faiss prints it', () => {
    const r = new FaissRandom(1234);
    const got = [r.randFloat(), r.randFloat(), r.randFloat()].map((x) => x.toPrecision(9));
    expect(got).toEqual(['0.191519454', '0.497663677', '0.622108757']);
  });

  it('rand_perm(10, seed) for a positive and a negative seed', () => {
    expect(Array.from(randPerm(10, 1235))).toEqual([3, 2, 4, 9, 0, 7, 1, 5, 6, 8]);
    // (unsigned int)(−7): the low 32 bits.
    expect(Array.from(randPerm(10, -7))).toEqual([4, 7, 6, 0, 8, 3, 2, 9, 5, 1]);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new FaissRandom(1.5)).toThrow(/seed 1.5 is not an integer/);
  });
});
