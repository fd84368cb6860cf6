//! The [`Float`] trait: every numeric routine in kentro is generic over `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point element type kentro can cluster: implemented for `f32` and `f64`.
///
/// Distances are computed in `Self`; sums over many points (centre updates, inertia)
/// are accumulated in `f64` whatever `Self` is.
pub trait Float:
    Copy
    + Send
    + Sync
    + Debug
    + Display
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// The largest finite value.
    const MAX: Self;
    /// The numpy name of the type: `"float32"` or `"float64"`.
    const DTYPE: &'static str;
    /// Unit roundoff: half the distance from 1 to the next number (2⁻²⁴ or 2⁻⁵³).
    const UNIT_ROUNDOFF: f64;
    /// Largest binary exponent `e` such that `2^e` is finite (128 for `f32`, 1024 for `f64`).
    const MAX_EXP: i32;
    /// The smallest positive normal value, as `f64` (below it, rounding errors are absolute).
    const MIN_POSITIVE: f64;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Whether the value is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `self × a + b` with one rounding (a fused multiply-add where the CPU has one).
    fn mul_add(self, a: Self, b: Self) -> Self;
}

macro_rules! impl_float {
    ($t:ty, $name:literal) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MAX: Self = <$t>::MAX;
            const DTYPE: &'static str = $name;
            const MAX_EXP: i32 = <$t>::MAX_EXP;
            const UNIT_ROUNDOFF: f64 = <$t>::EPSILON as f64 / 2.0;
            const MIN_POSITIVE: f64 = <$t>::MIN_POSITIVE as f64;

            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
        }
    };
}

impl_float!(f32, "float32");
impl_float!(f64, "float64");
