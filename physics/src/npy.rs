//! Spin configurations from a NumPy `.npy` file's bytes (reading the file is the caller's job).
//!
//! The header is checked against the bytes actually present before ndarray-npy sees it:
//! ndarray-npy allocates the header (`HEADER_LEN`, up to 4 GiB) and the whole array (the
//! product of the header's shape) before it reads them, so a few bytes claiming a huge shape
//! would otherwise allocate gigabytes, or abort the process when the allocation fails.

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use ndarray_npy::npy::header::Header;

/// An unreadable or unsuitable `.npy` file; every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpyError {
    #[error("{file}: not a readable .npy file: {reason}")]
    Format { file: String, reason: String },
    #[error("{file}: shape {shape:?}, expected [n{expected}] for L = {size}")]
    Shape {
        file: String,
        shape: Vec<usize>,
        expected: String,
        size: usize,
    },
    #[error("{file}: no configurations")]
    Empty { file: String },
    #[error("{file}: configuration {index} holds {value}; expected {expected}")]
    Value {
        file: String,
        index: usize,
        value: f64,
        expected: String,
    },
}

const MAGIC: &[u8] = b"\x93NUMPY";
/// NumPy's own default limit (`max_header_size`): real headers are under 200 bytes.
const MAX_HEADER_BYTES: usize = 10_000;
/// ndarray-npy's header parser (py_literal) backtracks exponentially in the nesting depth: 14
/// nested braces, a 60-byte header, take it seconds and 20 take hours. A real header nests two
/// deep (`{..., 'shape': (n, L, L), }`), three with a structured dtype.
const MAX_HEADER_DEPTH: usize = 4;

/// The element types accepted, with their size in bytes.
#[derive(Clone, Copy)]
enum Dtype {
    I8,
    U8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Dtype {
    /// ndarray-npy's descriptors for each type it reads (both byte orders).
    fn parse(descriptor: &str) -> Option<Dtype> {
        Some(match descriptor {
            "|i1" | "i1" | "b" => Dtype::I8,
            "|u1" | "u1" | "B" => Dtype::U8,
            "<i2" | ">i2" => Dtype::I16,
            "<i4" | ">i4" => Dtype::I32,
            "<i8" | ">i8" => Dtype::I64,
            "<f4" | ">f4" => Dtype::F32,
            "<f8" | ">f8" => Dtype::F64,
            _ => return None,
        })
    }

    fn bytes(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::F64 => 8,
        }
    }
}

/// Reads `[n, L, …, L]` (`dim` axes of `size` after the first) configurations of ±1 (Ising,
/// `q` = None: states 0 for +1 and 1 for −1) or 0..q−1 (Potts), of any integer or float type
/// NumPy writes by default, in C or Fortran order. `name` is only used in error messages.
pub fn read_samples(
    bytes: &[u8],
    name: &str,
    dim: usize,
    size: usize,
    q: Option<u8>,
) -> Result<Vec<Vec<u8>>, NpyError> {
    let format = |reason: String| NpyError::Format {
        file: name.to_string(),
        reason,
    };
    let (header, dtype) = checked_header(bytes).map_err(format)?;
    let shape = header.shape;
    if shape.len() != dim + 1 || shape[1..].iter().any(|&s| s != size) {
        return Err(NpyError::Shape {
            file: name.to_string(),
            shape,
            expected: ", L".repeat(dim),
            size,
        });
    }
    if shape[0] == 0 {
        return Err(NpyError::Empty {
            file: name.to_string(),
        });
    }
    // The shape's product was checked against the bytes present, so this cannot overflow.
    let sites = shape[1..].iter().product::<usize>().max(1);
    let values = match dtype {
        Dtype::I8 => convert::<i8>(bytes, f64::from),
        Dtype::U8 => convert::<u8>(bytes, f64::from),
        Dtype::I16 => convert::<i16>(bytes, f64::from),
        Dtype::I32 => convert::<i32>(bytes, f64::from),
        Dtype::I64 => convert::<i64>(bytes, |x| x as f64),
        Dtype::F32 => convert::<f32>(bytes, f64::from),
        Dtype::F64 => convert::<f64>(bytes, |x| x),
    }
    .map_err(format)?;
    let mut out = Vec::with_capacity(shape[0]);
    for (k, chunk) in values.chunks(sites).enumerate() {
        let mut c = Vec::with_capacity(sites);
        for &v in chunk {
            let state = match q {
                None if v == 1.0 => 0,
                None if v == -1.0 => 1,
                Some(q) if v >= 0.0 && v < f64::from(q) && v.fract() == 0.0 => v as u8,
                _ => {
                    return Err(NpyError::Value {
                        file: name.to_string(),
                        index: k,
                        value: v,
                        expected: q.map_or("±1 (Ising)".to_string(), |q| {
                            format!("0..{} (Potts q = {q})", q.saturating_sub(1))
                        }),
                    });
                }
            };
            c.push(state);
        }
        out.push(c);
    }
    Ok(out)
}

/// The header, once its length, nesting, element type and shape are known to match the bytes
/// present: after this, ndarray-npy allocates no more than the file's own size.
fn checked_header(bytes: &[u8]) -> Result<(Header, Dtype), String> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("no .npy magic string".into());
    }
    let (major, minor) = (bytes[MAGIC.len()], bytes[MAGIC.len() + 1]);
    let rest = &bytes[MAGIC.len() + 2..];
    let (len, prefix) = match major {
        1 if rest.len() >= 2 => (usize::from(u16::from_le_bytes([rest[0], rest[1]])), 2),
        2 | 3 if rest.len() >= 4 => (
            u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize,
            4,
        ),
        1..=3 => return Err("the file ends inside its header".into()),
        _ => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if len > MAX_HEADER_BYTES {
        return Err(format!(
            "a header of {len} bytes; at most {MAX_HEADER_BYTES}"
        ));
    }
    let available = rest.len() - prefix;
    if len > available {
        return Err(format!(
            "a header of {len} bytes, but only {available} bytes follow"
        ));
    }
    let text = &rest[prefix..prefix + len];
    let mut depth = 0usize;
    for &c in text {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_DEPTH {
            return Err(format!(
                "a header nested more than {MAX_HEADER_DEPTH} brackets deep"
            ));
        }
    }
    let body = available - len;
    let header = Header::from_reader(&mut &bytes[..]).map_err(|e| format!("header: {e}"))?;
    let descriptor = header.type_descriptor.to_string();
    let descriptor = descriptor.trim_matches(|c| c == '\'' || c == '"');
    let dtype = Dtype::parse(descriptor).ok_or_else(|| {
        format!(
            "element type {descriptor:?}; int8, uint8, int16, int32, int64, float32 or float64 expected"
        )
    })?;
    let needed = header
        .shape
        .iter()
        .try_fold(1usize, |n, &s| n.checked_mul(s))
        .and_then(|n| n.checked_mul(dtype.bytes()));
    match needed {
        Some(n) if n == body => Ok((header, dtype)),
        Some(n) => Err(format!(
            "shape {:?} of {descriptor} needs {n} bytes of data, the file holds {body}",
            header.shape
        )),
        None => Err(format!("shape {:?} overflows", header.shape)),
    }
}

/// The array's values in logical (C) order, whatever the file's layout.
fn convert<T: ndarray_npy::ReadableElement + Copy>(
    bytes: &[u8],
    f: impl Fn(T) -> f64,
) -> Result<Vec<f64>, String> {
    let a = ArrayD::<T>::read_npy(bytes).map_err(|e| e.to_string())?;
    Ok(a.iter().map(|&x| f(x)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3, ShapeBuilder};
    use ndarray_npy::WriteNpyExt;

    fn npy<T: ndarray_npy::WritableElement, D: ndarray::Dimension>(
        a: &ndarray::Array<T, D>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        a.write_npy(&mut out).expect("in memory");
        out
    }

    /// A version-1 file of `header` (padded as NumPy pads) followed by `body`.
    fn raw(header: &str, body: &[u8]) -> Vec<u8> {
        let mut h = header.to_string();
        while !(MAGIC.len() + 4 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn every_type_and_both_orders_read_alike() {
        let c = Array2::<i8>::from_shape_fn((3, 4), |(i, j)| if (i + j) % 3 == 0 { 1 } else { -1 });
        let expect = read_samples(&npy(&c), "c.npy", 1, 4, None).expect("int8");
        assert_eq!(expect.len(), 3);
        assert_eq!(expect[0], vec![0, 1, 1, 0]);
        let mut f = Array2::<f64>::zeros((3, 4).f());
        f.zip_mut_with(&c, |x, &y| *x = f64::from(y));
        assert_eq!(
            read_samples(&npy(&f), "f.npy", 1, 4, None),
            Ok(expect.clone())
        );
        let i64s = c.mapv(i64::from);
        assert_eq!(read_samples(&npy(&i64s), "i.npy", 1, 4, None), Ok(expect));
        let potts = Array3::<u8>::from_shape_fn((2, 3, 3), |(n, y, x)| ((n + y + x) % 3) as u8);
        let got = read_samples(&npy(&potts), "p.npy", 2, 3, Some(3)).expect("potts");
        assert_eq!(got[1], vec![1, 2, 0, 2, 0, 1, 0, 1, 2]);
    }

    #[test]
    fn rejections_name_the_file_and_say_why() {
        let c = Array2::<i8>::ones((2, 4));
        let text = |r: Result<Vec<Vec<u8>>, NpyError>| r.expect_err("rejected").to_string();
        let e = text(read_samples(&npy(&c), "c.npy", 2, 4, None));
        assert_eq!(e, "c.npy: shape [2, 4], expected [n, L, L] for L = 4");
        let e = text(read_samples(
            &npy(&Array2::<i8>::zeros((0, 4))),
            "e.npy",
            1,
            4,
            None,
        ));
        assert_eq!(e, "e.npy: no configurations");
        let e = text(read_samples(
            &npy(&Array2::<i8>::zeros((1, 4))),
            "z.npy",
            1,
            4,
            None,
        ));
        assert_eq!(e, "z.npy: configuration 0 holds 0; expected ±1 (Ising)");
        let e = text(read_samples(b"not numpy", "g.npy", 1, 4, None));
        assert!(e.starts_with("g.npy: not a readable .npy file"), "{e}");
        let u16s = npy(&Array2::<u16>::ones((2, 4)));
        let e = text(read_samples(&u16s, "u.npy", 1, 4, None));
        assert!(e.contains("element type \"<u2\""), "{e}");
    }

    /// Regression: headers claiming more than the file holds are refused before anything is
    /// allocated for them (ndarray-npy would allocate the claimed size first).
    #[test]
    fn huge_claims_in_tiny_files_are_refused() {
        let e = read_samples(
            &raw(
                "{'descr': '|i1', 'fortran_order': False, 'shape': (1099511627776, 4), }",
                &[1; 4],
            ),
            "big.npy",
            1,
            4,
            None,
        )
        .expect_err("shape larger than the data");
        assert!(
            e.to_string()
                .contains("needs 4398046511104 bytes of data, the file holds 4"),
            "{e}"
        );
        let e = read_samples(
            &raw(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
                &[],
            ),
            "over.npy",
            1,
            4,
            None,
        )
        .expect_err("shape overflows");
        assert!(e.to_string().contains("overflows"), "{e}");
        // Version 2 with HEADER_LEN = 4 GiB − 1 in a 12-byte file.
        let mut v2 = MAGIC.to_vec();
        v2.extend([2, 0, 0xff, 0xff, 0xff, 0xff]);
        let e = read_samples(&v2, "v2.npy", 1, 4, None).expect_err("header longer than file");
        assert!(e.to_string().contains("at most 10000"), "{e}");
        let mut v2 = MAGIC.to_vec();
        v2.extend([2, 0, 0x10, 0x27, 0, 0]);
        let e = read_samples(&v2, "v2.npy", 1, 4, None).expect_err("header longer than file");
        assert!(e.to_string().contains("only 0 bytes follow"), "{e}");
        // Regression: 20 nested braces kept py_literal busy for hours.
        let t = std::time::Instant::now();
        let deep = format!("{}{}", "{".repeat(20), "}".repeat(20));
        let e = read_samples(&raw(&deep, &[]), "deep.npy", 1, 4, None).expect_err("deep");
        assert!(e.to_string().contains("brackets deep"), "{e}");
        assert!(t.elapsed().as_secs() < 1);
    }
}
