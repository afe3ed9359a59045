#!/usr/bin/env python3
"""Independent reference for include/incision/detail/random.hpp (pinned in test_random.cpp).

Same published formulas, written in Python with exact integer arithmetic: splitmix64 seeding,
xoshiro256** 1.0, uniform = (x >> 11) * 2^-53, Marsaglia polar normals with s = fma(u, u, v*v)
computed exactly (Fraction) and rounded once, f = sqrt(-2 ln s / s).
Run: python3 tests/bandit/random_reference.py
"""
import math
from fractions import Fraction

M = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


class Stream:
    def __init__(self, seed):
        self.s = []
        st = seed
        for _ in range(4):
            st, z = splitmix64(st)
            self.s.append(z)
        self.spare = None

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53

    def normal(self):
        if self.spare is not None:
            r, self.spare = self.spare, None
            return r
        while True:
            u = 2.0 * self.uniform() - 1.0
            v = 2.0 * self.uniform() - 1.0
            s = float(Fraction(u) * Fraction(u) + Fraction(v * v))  # fma: one rounding
            if 0.0 < s < 1.0:
                break
        f = math.sqrt(-2.0 * math.log(s) / s)
        self.spare = v * f
        return u * f


if __name__ == "__main__":
    for seed in (0, 20260523):
        r = Stream(seed)
        print(seed, "next", [hex(r.next()) for _ in range(3)])
        r = Stream(seed)
        print(seed, "uniform", [r.uniform().hex() for _ in range(3)])
        r = Stream(seed)
        print(seed, "normal", [r.normal().hex() for _ in range(5)])
