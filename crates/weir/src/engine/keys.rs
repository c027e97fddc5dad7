//! The keys an ordered gate remembers (dedupe, a schema's unique): 128-bit hashes of the key
//! fields, in as little memory as a hash table allows, with no moment that holds twice of it.
//!
//! One hash table doubles when it is full: just after, it holds twice the buckets it needs, and
//! while it doubles it holds its old and new buckets at once (three times). So `max_keys` keys
//! in one `HashSet<u128>` cost 19 to 58 bytes each depending on the count. Here they are in 256
//! tables: a doubling copies one of them, never all. And keys are routed unevenly, table `i`
//! taking a share proportional to `2^(i/256)`, so that at any count the tables are spread
//! evenly over one doubling instead of all doubling at once: a key costs about 1.65 buckets
//! whatever the count (a dedupe key: a 16-byte bucket and its control byte, ~28 bytes; a unique
//! key with its first line: 24 + 1, ~41 bytes). Measured in `tests/cli/promises_misc.rs`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// How many tables.
const TABLES: usize = 256;

/// How many of a key's top bits choose its table.
const ROUTE_BITS: u32 = 12;

/// A key as stored: two halves (a `u128` would be aligned to 16 bytes, padding a unique key's
/// entry from 24 bytes to 32).
type Key = (u64, u64);

/// The keys are hashes already (two SipHash passes, see `format::key_hash`): a table hashes
/// one by its low half. The route uses the top bits of the high half, independent of it.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached by `Key`, which hashes as two `write_u64`; kept correct for any type.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, half: u64) {
        self.0 = half;
    }
}

/// A map from a gate's keys to `V` (`()` for a set); see the module documentation.
pub(crate) struct KeyMap<V> {
    tables: Vec<HashMap<Key, V, BuildHasherDefault<KeyHasher>>>,
    /// The table of each value of a key's top [`ROUTE_BITS`] bits.
    route: Box<[u8]>,
    len: usize,
}

impl<V> KeyMap<V> {
    pub(crate) fn new() -> KeyMap<V> {
        let slots = 1usize << ROUTE_BITS;
        // Table i takes the keys whose top bits u (as a fraction) have log2(1 + u) in
        // [i/256, (i+1)/256): a share of about 2^(i/256) (ln 2 / 256).
        let route = (0..slots)
            .map(|s| {
                let u = (s as f64 + 0.5) / slots as f64;
                ((1.0 + u).log2() * TABLES as f64) as u8
            })
            .collect();
        KeyMap {
            tables: (0..TABLES).map(|_| HashMap::default()).collect(),
            route,
            len: 0,
        }
    }

    fn split(&self, key: u128) -> (usize, Key) {
        let high = (key >> 64) as u64;
        let table = self.route[(high >> (64 - ROUTE_BITS)) as usize];
        (usize::from(table), (high, key as u64))
    }

    /// How many keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, key: u128) -> Option<&V> {
        let (t, k) = self.split(key);
        self.tables[t].get(&k)
    }

    /// Adds `key` (or replaces its value); whether it is new.
    pub(crate) fn insert(&mut self, key: u128, value: V) -> bool {
        let (t, k) = self.split(key);
        let new = self.tables[t].insert(k, value).is_none();
        self.len += usize::from(new);
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_all_their_bits_and_counted_once() {
        let mut m = KeyMap::new();
        let keys: Vec<u128> = (0..10_000u64)
            .map(|i| crate::record::key_hash(&i.to_le_bytes()))
            .collect();
        for (i, &k) in keys.iter().enumerate() {
            assert!(m.insert(k, i));
        }
        assert!(!m.insert(keys[7], 7));
        assert_eq!(m.len(), keys.len());
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(m.get(k), Some(&i));
        }
        // Keys equal in either half alone are different keys.
        let k = keys[3];
        assert_eq!(m.get(k ^ 1), None);
        assert_eq!(m.get(k ^ (1 << 100)), None);
        // The route spreads the keys over every table, unevenly: the last tables take about
        // twice the share of the first.
        let sizes: Vec<usize> = m.tables.iter().map(HashMap::len).collect();
        assert!(sizes.iter().all(|&n| n > 0), "{sizes:?}");
        let (first, last): (usize, usize) = (sizes[..32].iter().sum(), sizes[224..].iter().sum());
        let ratio = last as f64 / first as f64;
        assert!((1.6..2.2).contains(&ratio), "{ratio}");
    }
}
