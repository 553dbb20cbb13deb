//! A session's bytes to write, in order, as runs of its own bytes and feed batches it
//! shares with every other subscriber of the feed. A session written by the gateway's
//! thread gets them copied into one buffer; a session handed to the socket writer gets
//! the runs as they are, so a shared batch is never copied in user space.

use std::ops::Deref;
use std::sync::Arc;

/// One run of bytes to write.
pub enum Chunk {
    /// A feed batch every subscriber of its feed holds.
    Shared(Arc<[u8]>),
    /// Bytes of this session alone.
    Owned(Vec<u8>),
}

impl Deref for Chunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Chunk::Shared(bytes) => bytes,
            Chunk::Owned(bytes) => bytes,
        }
    }
}

/// The bytes of one drain of one session.
#[derive(Default)]
pub struct Output {
    chunks: Vec<Chunk>,
    /// Own bytes after the last chunk.
    tail: Vec<u8>,
    len: usize,
}

impl Output {
    /// Starts with bytes of the session's own.
    pub fn from_vec(bytes: Vec<u8>) -> Output {
        Output {
            chunks: Vec::new(),
            len: bytes.len(),
            tail: bytes,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends bytes of the session's own.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends what `write` writes into the session's own bytes.
    pub fn write_with<T>(&mut self, write: impl FnOnce(&mut Vec<u8>) -> T) -> T {
        let before = self.tail.len();
        let result = write(&mut self.tail);
        self.len += self.tail.len() - before;
        result
    }

    /// Appends a shared feed batch.
    pub fn share(&mut self, batch: &Arc<[u8]>) {
        self.close_tail();
        self.len += batch.len();
        self.chunks.push(Chunk::Shared(Arc::clone(batch)));
    }

    fn close_tail(&mut self) {
        if !self.tail.is_empty() {
            self.chunks
                .push(Chunk::Owned(std::mem::take(&mut self.tail)));
        }
    }

    /// The runs, in order, for the socket writer.
    pub fn into_chunks(mut self) -> Vec<Chunk> {
        self.close_tail();
        self.chunks
    }

    /// Every byte in one buffer, for the gateway's own thread to write.
    pub fn into_bytes(mut self) -> Vec<u8> {
        if self.chunks.is_empty() {
            return self.tail;
        }
        self.close_tail();
        let mut out = Vec::with_capacity(self.len);
        for chunk in &self.chunks {
            out.extend_from_slice(chunk);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_their_order_whether_joined_or_not() {
        let shared: Arc<[u8]> = Arc::from(&b"cd"[..]);
        let build = || {
            let mut out = Output::from_vec(b"ab".to_vec());
            out.share(&shared);
            out.write_with(|b| b.push(b'e'));
            out.extend(b"f");
            out
        };
        assert_eq!(build().len(), 6);
        assert_eq!(build().into_bytes(), b"abcdef");
        let runs: Vec<Vec<u8>> = build().into_chunks().iter().map(|c| c.to_vec()).collect();
        assert_eq!(runs, [b"ab".to_vec(), b"cd".to_vec(), b"ef".to_vec()]);
    }
}
