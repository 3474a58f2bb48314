/**
 * A small seeded PRNG (mulberry32): the same seed gives the same media and the same fault plans.
 * @see https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 */
export function seededRandom(seed: number): () => number {
  // The generator's whole state: advanced by a fixed odd constant on every draw.
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** An integer drawn uniformly from `[min, max]` (both included). */
export function pickInRange(random: () => number, range: readonly [min: number, max: number]): number {
  return range[0] + Math.floor(random() * (range[1] - range[0] + 1))
}
