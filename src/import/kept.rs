//! An imported file's bytes on their way into the ledger whole (schema/0035_import_files.sql):
//! what the CSV reader reads passes through [`Tee`], which hashes it and sends it on in
//! pieces of about [`FILE_CHUNK`] bytes, so the file is read once and never held whole.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;
use std::sync::mpsc::SyncSender;

use sha2::{Digest, Sha256};

use crate::digest::hex;
use crate::ledger::FILE_CHUNK;

use super::Message;

/// What has passed through a [`Tee`] so far.
pub(super) struct Kept {
    /// Index of the file in the command's list.
    file: usize,
    hasher: Sha256,
    /// Bytes not yet sent.
    piece: Vec<u8>,
    /// Bytes read in all.
    bytes: u64,
}

impl Kept {
    /// Nothing of file `file` read yet.
    pub(super) fn new(file: usize) -> Rc<RefCell<Kept>> {
        Rc::new(RefCell::new(Kept { file, hasher: Sha256::new(), piece: Vec::new(), bytes: 0 }))
    }

    /// The last piece (possibly empty), and the hash and length of everything read.
    pub(super) fn finish(&mut self) -> (Vec<u8>, String, u64) {
        let hasher = std::mem::take(&mut self.hasher);
        (std::mem::take(&mut self.piece), hex(&hasher.finalize()), self.bytes)
    }
}

/// A reader that keeps what it reads (see the module).
pub(super) struct Tee<R> {
    inner: R,
    kept: Rc<RefCell<Kept>>,
    send: SyncSender<Message>,
}

impl<R: Read> Tee<R> {
    /// Reads `inner`, keeping its bytes in `kept` and sending full pieces on `send`.
    pub(super) fn new(inner: R, kept: Rc<RefCell<Kept>>, send: SyncSender<Message>) -> Tee<R> {
        Tee { inner, kept, send }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut kept = self.kept.borrow_mut();
        let read = &buf[..n];
        kept.hasher.update(read);
        kept.piece.extend_from_slice(read);
        kept.bytes += n as u64;
        if kept.piece.len() >= FILE_CHUNK {
            let data = std::mem::replace(&mut kept.piece, Vec::with_capacity(FILE_CHUNK));
            // The writer hung up: it failed, and its error is the one reported.
            let _ = self.send.send(Message::Bytes { file: kept.file, data });
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_is_sent_once_in_order_and_hashed() {
        let input: Vec<u8> = (0..(FILE_CHUNK * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        let (send, receive) = std::sync::mpsc::sync_channel(16);
        let kept = Kept::new(3);
        let mut tee = Tee::new(&input[..], kept.clone(), send);
        let mut sink = Vec::new();
        tee.read_to_end(&mut sink).unwrap();
        drop(tee);
        assert_eq!(sink, input, "the reader sees the bytes unchanged");
        let mut again = Vec::new();
        for message in receive.iter() {
            match message {
                Message::Bytes { file, data } => {
                    assert_eq!(file, 3);
                    assert!(data.len() >= FILE_CHUNK, "only full pieces are sent while reading");
                    again.extend(data);
                }
                _ => panic!("only pieces are sent while reading"),
            }
        }
        let (last, sha256, bytes) = kept.borrow_mut().finish();
        again.extend(last);
        assert_eq!(again, input);
        assert_eq!(bytes, input.len() as u64);
        assert_eq!(sha256, hex(&Sha256::digest(&input)));
    }
}
