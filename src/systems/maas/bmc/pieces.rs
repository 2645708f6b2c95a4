//! The machinery the streaming readers share ([`super::machine_list`],
//! [`super::power_parameters`]): a reading thread fills buffers from any [`Read`] and cuts each
//! where the format guesses the next element starts; worker threads parse the pieces in
//! parallel, each assuming its piece starts there; the answers are taken in document order,
//! where the format keeps an answer only when the exact parse of the piece before ended where
//! the guess assumed (and parses the piece again from the exact state otherwise). So a format's
//! result never depends on where the cuts fell.
//!
//! Memory: at most [`IN_FLIGHT`] pieces per worker are held at once; buffers are reused. A
//! document already in memory (a mapped file: [`Document`]) is cut in place, with no copy.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, Sender, SyncSender};
use std::sync::Mutex;

/// Files at least this large are mapped into memory (see [`Document::open`]); smaller ones are
/// read, which costs less than setting up a mapping.
pub const MAP_FROM_BYTES: u64 = 16 * 1024 * 1024;
/// A mapped document's pages are given back in steps of this many bytes (a multiple of every
/// page size Linux uses, and about one piece).
const RELEASE_STEP: usize = 2 * 1024 * 1024;

/// A document file opened for a reader: mapped into memory when it is a large regular file (its
/// pieces are then parsed in place: the copy `read(2)` makes costs about a sixth of the whole
/// read of a real-size machine list), read as a stream otherwise (small files, pipes, FIFOs).
pub enum Document {
    /// The whole file, mapped read-only.
    Mapped(Mapped),
    /// The file, read as it comes.
    Stream(File),
}

impl Document {
    /// Opens `path`: mapped when it is a regular file of at least [`MAP_FROM_BYTES`].
    ///
    /// The mapping is read-only and private. Another process truncating the file while it is
    /// read would fault the reads past its new end (`SIGBUS`): the hazard of every mapped read
    /// (ripgrep's too); documents given to preflight are exports nothing writes any more.
    ///
    /// # Errors
    /// When the file cannot be opened (or its size read); a failed mapping falls back to reading.
    pub fn open(path: &Path) -> std::io::Result<Document> {
        Document::open_mapping_from(path, MAP_FROM_BYTES)
    }

    /// [`Document::open`], mapping regular files of at least `map_from` bytes.
    ///
    /// # Errors
    /// As [`Document::open`].
    pub fn open_mapping_from(path: &Path, map_from: u64) -> std::io::Result<Document> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() >= map_from && meta.len() > 0 {
            // SAFETY: a read-only mapping of a file opened read-only; the only hazard is a
            // concurrent truncation, documented above.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                // Workers read their pieces front to back: let the kernel read ahead.
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(Document::Mapped(Mapped {
                    map,
                    released: std::cell::Cell::new(0),
                }));
            }
        }
        Ok(Document::Stream(file))
    }
}

/// A mapped document file, whose pages are given back as the reader is done with them.
pub struct Mapped {
    map: memmap2::Mmap,
    /// The bytes before this were given back.
    released: std::cell::Cell<usize>,
}

impl Mapped {
    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Gives back the mapped pages wholly before `offset` (in steps of 2 MiB): the file stays
    /// in the page cache, but the process no longer holds those pages, so its resident memory is
    /// the pieces in flight rather than the whole file. A page read again is mapped again with
    /// the same bytes (the mapping is private and never written).
    pub fn release_before(&self, offset: u64) {
        let upto = usize::try_from(offset).unwrap_or(usize::MAX).min(self.map.len()) / RELEASE_STEP * RELEASE_STEP;
        let from = self.released.get();
        if upto > from {
            #[cfg(unix)]
            // SAFETY: MADV_DONTNEED on a private read-only file mapping drops the page-table
            // entries only; the next read maps the file's unchanged bytes again.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, upto - from)
            };
            self.released.set(upto);
        }
    }
}

/// Pieces per worker read ahead of the one taken next in document order.
pub const IN_FLIGHT: usize = 4;
/// Size of the first piece; each next one doubles, up to the reader's piece size.
const FIRST_PIECE_BYTES: usize = 64 * 1024;

/// A piece of the document handed to a worker, which starts `offset` bytes into the document;
/// `seq` numbers the pieces from 0 in document order.
pub struct Piece<'d> {
    /// The piece's number, from 0.
    pub seq: usize,
    /// Where the piece starts in the document.
    pub offset: u64,
    data: Data<'d>,
}

/// A piece's bytes: read into a buffer of its own, or a part of a document in memory.
enum Data<'d> {
    /// `buffer[..len]`.
    Read { buffer: Vec<u8>, len: usize },
    /// Part of the document [`read_in_memory`] was given.
    InPlace(&'d [u8]),
}

impl Piece<'_> {
    /// The piece's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Read { buffer, len } => &buffer[..*len],
            Data::InPlace(bytes) => bytes,
        }
    }
}

/// The workers' side of a format: parses one piece as if it started where the cut assumed.
pub trait Parse: Sync {
    /// A worker's answer for one piece.
    type Answer: Send;

    /// Parses `piece` (the first piece starts the document; every other one starts where
    /// [`InOrder::cut`] guessed).
    fn parse(&self, piece: &Piece<'_>) -> Self::Answer;

    /// The answer for a piece whose parse panicked (every piece gets an answer: the reading
    /// thread waits for each).
    fn panicked(&self, piece: &Piece<'_>) -> Self::Answer;
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
    fn take(&mut self, piece: &Piece<'_>, answer: Self::Answer) -> Result<(), Self::Error>;

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
    in_parallel(parse, order, &mut |_| {}, |taker, pieces, parsed, limit| {
        feed(source, taker, pieces, parsed, piece_bytes, limit)
    })
}

/// [`read`] over a document already in memory (a mapped file): the pieces are cut in place, so
/// no byte is copied; the same pieces, workers and answers as [`read`]. `done` is told, after
/// each piece is taken, that every byte before that offset is no longer needed.
///
/// # Errors
/// The first error `order` takes.
pub fn read_in_memory<P, O>(
    document: &[u8],
    parse: &P,
    order: &mut O,
    piece_bytes: usize,
    done: &mut dyn FnMut(u64),
) -> Result<u64, O::Error>
where
    P: Parse,
    O: InOrder<Answer = P::Answer>,
{
    in_parallel(parse, order, done, |taker, pieces, parsed, limit| {
        feed_in_place(document, taker, pieces, parsed, piece_bytes, limit)
    })
}

/// [`read_in_memory`] over a mapped file, giving its pages back as the pieces are taken.
///
/// # Errors
/// As [`read_in_memory`].
pub fn read_mapped<P, O>(mapped: &Mapped, parse: &P, order: &mut O, piece_bytes: usize) -> Result<u64, O::Error>
where
    P: Parse,
    O: InOrder<Answer = P::Answer>,
{
    read_in_memory(mapped.bytes(), parse, order, piece_bytes, &mut |at| {
        mapped.release_before(at)
    })
}

/// Starts the workers and runs `feed` (the reading side) on this thread with them; `done` is
/// told the end of each piece taken.
fn in_parallel<'d, P, O, F>(parse: &P, order: &mut O, done: &mut dyn FnMut(u64), feed: F) -> Result<u64, O::Error>
where
    P: Parse,
    O: InOrder<Answer = P::Answer>,
    F: FnOnce(
        &mut Taker<'_, 'd, O>,
        SyncSender<Piece<'d>>,
        &Receiver<(Piece<'d>, O::Answer)>,
        usize,
    ) -> Result<u64, O::Error>,
{
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let limit = workers * IN_FLIGHT;
    let (piece_tx, piece_rx) = sync_channel::<Piece<'d>>(limit);
    let (parsed_tx, parsed_rx) = std::sync::mpsc::channel::<(Piece<'d>, P::Answer)>();
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
            done,
            free: Vec::new(),
        };
        feed(&mut taker, piece_tx, &parsed_rx, limit)
    })
}

fn worker<'d, P: Parse>(pieces: &Mutex<Receiver<Piece<'d>>>, parsed: &Sender<(Piece<'d>, P::Answer)>, parse: &P) {
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
struct Taker<'o, 'd, O: InOrder> {
    order: &'o mut O,
    /// The next piece to take.
    seq: usize,
    waiting: BTreeMap<usize, (Piece<'d>, O::Answer)>,
    /// Told, after each piece is taken, where it ended: every byte before is done with.
    done: &'o mut dyn FnMut(u64),
    /// Buffers to read into again.
    free: Vec<Vec<u8>>,
}

impl<'d, O: InOrder> Taker<'_, 'd, O> {
    fn take(&mut self, piece: Piece<'d>, answer: O::Answer) -> Result<(), O::Error> {
        self.waiting.insert(piece.seq, (piece, answer));
        while let Some((piece, answer)) = self.waiting.remove(&self.seq) {
            self.seq += 1;
            self.order.take(&piece, answer)?;
            (self.done)(piece.offset + piece.bytes().len() as u64);
            if let Data::Read { buffer, .. } = piece.data {
                self.free.push(buffer);
            }
        }
        Ok(())
    }

    /// Takes every answer that is ready, without waiting.
    fn take_ready(&mut self, parsed: &Receiver<(Piece<'d>, O::Answer)>) -> Result<(), O::Error> {
        while let Ok((piece, answer)) = parsed.try_recv() {
            self.take(piece, answer)?;
        }
        Ok(())
    }

    /// Waits for an answer and takes it (and any before it in document order).
    fn take_next(&mut self, parsed: &Receiver<(Piece<'d>, O::Answer)>) -> Result<(), O::Error> {
        let (piece, answer) = parsed
            .recv()
            .map_err(|_| O::failure("a parser thread stopped".into()))?;
        self.take(piece, answer)
    }
}

/// The reading thread's loop of [`read`]: reads pieces, hands them to the workers and takes
/// their answers in order, holding at most `limit` pieces at once.
fn feed<R: Read, O: InOrder>(
    mut source: R,
    taker: &mut Taker<'_, 'static, O>,
    pieces: SyncSender<Piece<'static>>,
    parsed: &Receiver<(Piece<'static>, O::Answer)>,
    piece_bytes: usize,
    limit: usize,
) -> Result<u64, O::Error> {
    let mut sent = 0usize;
    let mut offset = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut failed = None;
    loop {
        while sent - taker.seq >= limit {
            taker.take_next(parsed)?;
        }
        let mut data = taker.free.pop().unwrap_or_default();
        let size = piece_size(sent, piece_bytes).max(carry.len() * 2);
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
                data: Data::Read { buffer: data, len: at },
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
        taker.take_ready(parsed)?;
    }
    drop(pieces);
    while taker.seq < sent {
        taker.take_next(parsed)?;
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(offset),
    }
}

/// The size of piece number `sent`: from 64 KiB, doubling up to `piece_bytes` (a small
/// document costs no large buffer).
fn piece_size(sent: usize, piece_bytes: usize) -> usize {
    piece_bytes.min(FIRST_PIECE_BYTES << sent.min(16)).max(1)
}

/// The reading thread's loop of [`read_in_memory`]: cuts `document` into pieces in place, as
/// [`feed`] cuts what it reads (a window of the piece's size, twice as large when no cut is
/// found in it), and takes the answers in order.
fn feed_in_place<'d, O: InOrder>(
    document: &'d [u8],
    taker: &mut Taker<'_, 'd, O>,
    pieces: SyncSender<Piece<'d>>,
    parsed: &Receiver<(Piece<'d>, O::Answer)>,
    piece_bytes: usize,
    limit: usize,
) -> Result<u64, O::Error> {
    let mut sent = 0usize;
    let mut offset = 0usize;
    let mut size = piece_size(0, piece_bytes);
    while offset < document.len() {
        while sent - taker.seq >= limit {
            taker.take_next(parsed)?;
        }
        let rest = &document[offset..];
        let at = if rest.len() <= size {
            rest.len()
        } else {
            taker.order.cut(&rest[..size], sent == 0).min(size)
        };
        if at == 0 {
            size *= 2;
            continue;
        }
        let piece = Piece {
            seq: sent,
            offset: offset as u64,
            data: Data::InPlace(&rest[..at]),
        };
        if pieces.send(piece).is_err() {
            return Err(O::failure("the parser threads stopped".into()));
        }
        sent += 1;
        offset += at;
        size = piece_size(sent, piece_bytes);
        taker.take_ready(parsed)?;
    }
    drop(pieces);
    while taker.seq < sent {
        taker.take_next(parsed)?;
    }
    Ok(offset as u64)
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
