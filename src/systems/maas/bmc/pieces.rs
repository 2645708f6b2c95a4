//! The machinery the streaming readers share ([`super::machine_list`],
//! [`super::power_parameters`]): a reading thread fills buffers from any [`Read`] and cuts each
//! where the format guesses the next element starts; worker threads parse the pieces in
//! parallel, each assuming its piece starts there; the answers are taken in document order,
//! where the format keeps an answer only when the exact parse of the piece before ended where
//! the guess assumed (and parses the piece again from the exact state otherwise). So a format's
//! result never depends on where the cuts fell.
//!
//! Memory: at most [`IN_FLIGHT`] pieces per worker are held at once; buffers are reused.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, Sender, SyncSender};
use std::sync::Mutex;

/// Pieces per worker read ahead of the one taken next in document order.
pub const IN_FLIGHT: usize = 4;
/// Size of the first piece; each next one doubles, up to the reader's piece size.
const FIRST_PIECE_BYTES: usize = 64 * 1024;

/// A piece of the document handed to a worker: `data[..len]`, which starts `offset` bytes into
/// the document; `seq` numbers the pieces from 0 in document order.
pub struct Piece {
    /// The piece's number, from 0.
    pub seq: usize,
    /// Where the piece starts in the document.
    pub offset: u64,
    data: Vec<u8>,
    len: usize,
}

impl Piece {
    /// The piece's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// The workers' side of a format: parses one piece as if it started where the cut assumed.
pub trait Parse: Sync {
    /// A worker's answer for one piece.
    type Answer: Send;

    /// Parses `piece` (the first piece starts the document; every other one starts where
    /// [`InOrder::cut`] guessed).
    fn parse(&self, piece: &Piece) -> Self::Answer;

    /// The answer for a piece whose parse panicked (every piece gets an answer: the reading
    /// thread waits for each).
    fn panicked(&self, piece: &Piece) -> Self::Answer;
}

/// The reading thread's side of a format: where to cut, and the answers in document order.
pub trait InOrder {
    /// A worker's answer for one piece.
    type Answer: Send;
    /// Why the document cannot be read.
    type Error;

    /// Where to cut `bytes` (a full buffer, not the document's end) so the next piece most
    /// likely starts where a worker assumes it does; `first` when `bytes` starts the document.
    /// The bytes after the cut start the next buffer; `0` cuts nothing off (the next buffer is
    /// larger).
    fn cut(&mut self, bytes: &[u8], first: bool) -> usize;

    /// Takes the answer for `piece`, pieces in document order.
    ///
    /// # Errors
    /// The format's first error in document order: reading stops.
    fn take(&mut self, piece: &Piece, answer: Self::Answer) -> Result<(), Self::Error>;

    /// The error for a failed source or a stopped thread (`message` in words).
    fn failure(message: String) -> Self::Error;
}

/// Reads `source` to its end in pieces of about `piece_bytes` (starting at 64 KiB, doubling),
/// parsed by `parse` on as many workers as the machine has cores (up to 8) and taken by `order`
/// in document order. Returns the document's length once every piece is taken.
///
/// # Errors
/// The first error `order` takes, then a read error of `source` (every byte read before it is
/// parsed and taken first).
pub fn read<R, P, O>(source: R, parse: &P, order: &mut O, piece_bytes: usize) -> Result<u64, O::Error>
where
    R: Read,
    P: Parse,
    O: InOrder<Answer = P::Answer>,
{
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let limit = workers * IN_FLIGHT;
    let (piece_tx, piece_rx) = sync_channel::<Piece>(limit);
    let (parsed_tx, parsed_rx) = std::sync::mpsc::channel::<(Piece, P::Answer)>();
    let pieces = Mutex::new(piece_rx);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let parsed_tx = parsed_tx.clone();
            let pieces = &pieces;
            scope.spawn(move || worker(pieces, &parsed_tx, parse));
        }
        drop(parsed_tx);
        let mut taker = Taker {
            order,
            seq: 0,
            waiting: BTreeMap::new(),
            free: Vec::new(),
        };
        feed(source, &mut taker, piece_tx, &parsed_rx, piece_bytes, limit)
    })
}

fn worker<P: Parse>(pieces: &Mutex<Receiver<Piece>>, parsed: &Sender<(Piece, P::Answer)>, parse: &P) {
    loop {
        let piece = match pieces.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(piece) = piece else { return };
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse.parse(&piece)))
            .unwrap_or_else(|_| parse.panicked(&piece));
        if parsed.send((piece, answer)).is_err() {
            return;
        }
    }
}

/// Hands the answers to the format in document order and keeps the buffers for reuse.
struct Taker<'o, O: InOrder> {
    order: &'o mut O,
    /// The next piece to take.
    seq: usize,
    waiting: BTreeMap<usize, (Piece, O::Answer)>,
    /// Buffers to read into again.
    free: Vec<Vec<u8>>,
}

impl<O: InOrder> Taker<'_, O> {
    fn take(&mut self, piece: Piece, answer: O::Answer) -> Result<(), O::Error> {
        self.waiting.insert(piece.seq, (piece, answer));
        while let Some((piece, answer)) = self.waiting.remove(&self.seq) {
            self.seq += 1;
            self.order.take(&piece, answer)?;
            self.free.push(piece.data);
        }
        Ok(())
    }
}

/// The reading thread's loop of [`read`]: reads pieces, hands them to the workers and takes
/// their answers in order, holding at most `limit` pieces at once.
fn feed<R: Read, O: InOrder>(
    mut source: R,
    taker: &mut Taker<'_, O>,
    pieces: SyncSender<Piece>,
    parsed: &Receiver<(Piece, O::Answer)>,
    piece_bytes: usize,
    limit: usize,
) -> Result<u64, O::Error> {
    let next_answer = || parsed.recv().map_err(|_| O::failure("a parser thread stopped".into()));
    let mut sent = 0usize;
    let mut offset = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut failed = None;
    loop {
        while sent - taker.seq >= limit {
            let (piece, answer) = next_answer()?;
            taker.take(piece, answer)?;
        }
        let mut data = taker.free.pop().unwrap_or_default();
        // Pieces grow from 64 KiB to `piece_bytes`: a small document costs no large buffer.
        let size = piece_bytes
            .min(FIRST_PIECE_BYTES << sent.min(16))
            .max(carry.len() * 2)
            .max(1);
        if data.len() < size {
            data.resize(size, 0);
        }
        data[..carry.len()].copy_from_slice(&carry);
        let mut len = carry.len();
        let mut eof = false;
        while len < data.len() {
            match source.read(&mut data[len..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // The bytes read so far are still parsed: an error in them comes first.
                    failed = Some(O::failure(e.to_string()));
                    eof = true;
                    break;
                }
            }
        }
        let at = if eof {
            len
        } else {
            taker.order.cut(&data[..len], sent == 0).min(len)
        };
        carry.clear();
        carry.extend_from_slice(&data[at..len]);
        if at > 0 {
            let piece = Piece {
                seq: sent,
                offset,
                data,
                len: at,
            };
            if pieces.send(piece).is_err() {
                return Err(O::failure("the parser threads stopped".into()));
            }
            sent += 1;
            offset += at as u64;
        }
        if eof {
            break;
        }
        while let Ok((piece, answer)) = parsed.try_recv() {
            taker.take(piece, answer)?;
        }
    }
    drop(pieces);
    while taker.seq < sent {
        let (piece, answer) = next_answer()?;
        taker.take(piece, answer)?;
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(offset),
    }
}

/// Sources the readers' tests share: a document handed out a few bytes a call, one that fails
/// after its bytes, and an endless run of spaces.
#[cfg(test)]
pub mod test_sources {
    use std::io::Read;

    /// Gives at most `.1` bytes of `.0` per call.
    pub struct Chunked<'a>(pub &'a [u8], pub usize);

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Gives `.0`, then fails (a connection reset).
    pub struct FailsAfter<'a>(pub &'a [u8]);

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// `.0` spaces.
    pub struct Spaces(pub u64);

    impl Read for Spaces {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.0) as usize;
            buf[..n].fill(b' ');
            self.0 -= n as u64;
            Ok(n)
        }
    }
}
