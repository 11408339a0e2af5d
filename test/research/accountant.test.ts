import { describe, expect, it } from 'vitest';
import {
  cdpDelta,
  cdpEpsilon,
  cdpEpsilonSimple,
  composeZcdp,
  gaussianRho,
  gaussianSigma,
  laplaceEpsilon,
  partitionThreshold,
  pureToZcdp,
  zcdpToPureDisplay,
} from '../../src/research/dp/accountant.js';

const close = (actual: number, expected: number, tolerance = 1e-12) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance);

describe('zCDP accounting against the OpenDP test vectors (reference §7)', () => {
  const rho = gaussianRho(1, 4);
  it('Gaussian map: scale 4, d_in 1 gives ρ = 0.03125', () => {
    expect(rho).toBe(0.03125);
    close(gaussianSigma(1, 0.03125), 4);
  });
  it('ε at δ = 1e-3 is 0.6880024554878086', () => close(cdpEpsilon(rho, 1e-3), 0.6880024554878086));
  it('δ at ε = 0 is 0.1508457845622862', () => close(cdpDelta(rho, 0), 0.1508457845622862));
  it('δ at ε = 0.6880024554878085 is 1e-3', () => close(cdpDelta(rho, 0.6880024554878085), 1e-3));
  it('the simple bound is looser (0.9605)', () => {
    close(cdpEpsilonSimple(rho, 1e-3), 0.9605, 1e-4);
    expect(cdpEpsilonSimple(rho, 1e-3)).toBeGreaterThan(cdpEpsilon(rho, 1e-3));
  });
  it('Laplace map, pure → zCDP and back', () => {
    expect(laplaceEpsilon(1, 2)).toBe(0.5);
    expect(laplaceEpsilon(0, 0)).toBe(0);
    expect(laplaceEpsilon(1, 0)).toBe(Infinity);
    expect(pureToZcdp(1)).toBe(0.5);
    expect(zcdpToPureDisplay(0.5)).toBe(1);
  });
  it('composition adds ρ and δ', () => {
    expect(composeZcdp([{ rho: 0.1 }, { rho: 0.25, delta: 1e-6 }, { rho: 0.05, delta: 1e-6 }])).toEqual({
      rho: 0.1 + 0.25 + 0.05,
      delta: 2e-6,
    });
  });
  it('edge cases: ρ = 0, δ ≥ 1, bad input', () => {
    expect(cdpEpsilon(0, 1e-6)).toBe(0);
    expect(cdpEpsilon(1, 1)).toBe(0);
    expect(cdpDelta(0, 1)).toBe(0);
    expect(() => cdpEpsilon(Number.NaN, 1e-6)).toThrow(RangeError);
    expect(() => cdpEpsilon(-1, 1e-6)).toThrow(RangeError);
    expect(() => cdpEpsilon(1, 0)).toThrow(RangeError);
  });
  it('ε(ρ, δ) and δ(ρ, ε) are inverse across a range', () => {
    for (const r of [0.001, 0.01, 0.1, 0.5, 2]) {
      for (const d of [1e-9, 1e-6, 1e-3]) {
        const e = cdpEpsilon(r, d);
        expect(Math.abs(cdpDelta(r, e) - d) / d).toBeLessThan(1e-6);
      }
    }
  });
});

describe('partition-selection thresholds (reference §7)', () => {
  it('Tumult τ', () => {
    expect(partitionThreshold(1, 1e-6, 1)).toBe(15);
    expect(partitionThreshold(1, 1e-5, 1)).toBe(13);
    expect(partitionThreshold(1, 1e-6, 3)).toBe(48);
  });
});
