//! The declaration of a direction's messages, written once: from one table per direction
//! [`declare_messages!`] derives the message enum, the type byte constants, the fixed
//! sizes, the encoder, the decoder (frames checked whole before parsing: exact length,
//! then every enum and flag field checked) and a description of every message
//! ([`MessageDecl`]) from which the specification's tables, the Python codec and the
//! fuzz tests are generated. A message may be declared with a tail: bytes of another
//! declaration that follow its fields (an engine link frame's input or events); the
//! declaration then covers its fixed part and says what the tail is.

use crate::field_codec::Column;

/// What a message is for, which says how it is numbered and who receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Login, heartbeats and the end of a session: never numbered.
    Session,
    /// Client order messages: forwarded to the engine with the session's account.
    OrderEntry,
    /// Client administrative commands (admin role): forwarded as engine inputs.
    Admin,
    /// Client market data requests.
    MarketDataRequest,
    /// Order responses: the account's stream, numbered by `seq`, replayed at login.
    OrderResponse,
    /// Top of book and trade reports: unsequenced, never replayed.
    TopOfBook,
    /// L3 (and trades) incrementals, numbered by `feed_seq`, resent on request.
    BookEvent,
    /// L2 incrementals, numbered by `level_seq`, resent on request.
    LevelUpdate,
    /// Snapshots and feed rejects: they state the sequence numbers they cover.
    FeedControl,
    /// Client requests for instrument reference data.
    ReferenceRequest,
    /// Instrument definitions: in every account's stream when an instrument is listed,
    /// halted or resumed (numbered by `seq`, replayed at login); with `seq` 0 as the
    /// answer to a request.
    Reference,
    /// Answers to one session's request (admin results, the end of a list): to that
    /// session only, never numbered.
    Answer,
    /// What the engine's sequencer orders: numbered, journaled, replayed on recovery.
    EngineInput,
    /// An input the sequencer acts on without numbering it: never journaled, so a
    /// replay never meets it.
    EngineControl,
    /// What the matcher answers an input with: under the input's number, recomputed on
    /// replay, sent again to a link that resumes.
    EngineEvent,
    /// Engine link frames that open, keep and end a link: never numbered.
    LinkControl,
    /// Engine link frames that carry an input for the engine to sequence.
    LinkInput,
    /// Engine link frames that carry the events of one sequenced input.
    LinkEvents,
}

impl Family {
    /// Whether and how messages of this family are sequenced and replayed, as the
    /// specification states it.
    pub fn sequencing(self) -> &'static str {
        match self {
            Family::Session | Family::TopOfBook | Family::FeedControl => "no",
            Family::Answer => "no (to the requesting session)",
            Family::OrderEntry => "— (order entry)",
            Family::Admin => "— (admin)",
            Family::MarketDataRequest => "— (market data)",
            Family::ReferenceRequest => "— (reference data)",
            Family::Reference => "seq (0: answer to InstrumentRequest); replayed at login",
            Family::OrderResponse => "seq; replayed at login (a gateway reject: seq 0, neither)",
            Family::BookEvent => "feed_seq; resend",
            Family::LevelUpdate => "level_seq; resend",
            Family::EngineInput => "seq: journaled; replayed on recovery",
            Family::EngineControl => "no: never sequenced or journaled",
            Family::EngineEvent => "under its input's seq; recomputed on replay, resent on Resume",
            Family::LinkControl => "no",
            Family::LinkInput => "no (the engine sequences its input)",
            Family::LinkEvents => "carries its input's `seq`; resent on Resume",
        }
    }
}

/// One declared field: its name in the message and its columns on the wire.
#[derive(Clone, Copy, Debug)]
pub struct FieldDecl {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The value a client library may fill in when its user leaves the field out, as a
    /// Python expression.
    pub default: Option<&'static str>,
}

/// One declared message.
#[derive(Clone, Copy, Debug)]
pub struct MessageDecl {
    pub type_byte: u8,
    pub name: &'static str,
    pub family: Family,
    /// The declaration's doc comment, one line per entry.
    pub doc: &'static [&'static str],
    pub fields: &'static [FieldDecl],
    /// The whole message, type byte included; for a message with a tail, all but the
    /// tail.
    pub size: usize,
    /// What follows the fields, as the specification states it; `None`: nothing does.
    pub tail: Option<&'static str>,
}

/// A column with the name it travels under.
#[derive(Clone, Copy, Debug)]
pub struct NamedColumn {
    pub name: &'static str,
    pub column: Column,
}

impl MessageDecl {
    /// Every column after the type byte, in wire order, with its name.
    pub fn columns(&self) -> impl Iterator<Item = NamedColumn> + '_ {
        self.fields.iter().flat_map(|f| {
            f.columns.iter().map(move |c| NamedColumn {
                name: c.name.unwrap_or(f.name),
                column: *c,
            })
        })
    }
}

/// The largest message of a table, for bounds computed at compile time.
pub const fn largest(table: &[MessageDecl]) -> usize {
    let mut size = 0;
    let mut i = 0;
    while i < table.len() {
        if table[i].size > size {
            size = table[i].size;
        }
        i += 1;
    }
    size
}

/// The codec of a declared field: its own type, or the marker named after `as`.
#[macro_export]
#[doc(hidden)]
macro_rules! field_codec_of {
    ($t:ty) => {
        $t
    };
    ($t:ty, $codec:ty) => {
        $codec
    };
}

/// A declared field's default, if it has one.
#[macro_export]
#[doc(hidden)]
macro_rules! declared_default {
    () => {
        None
    };
    ($default:literal) => {
        Some($default)
    };
}

/// A declared tail's description, if the message has one.
#[macro_export]
#[doc(hidden)]
macro_rules! declared_tail {
    () => {
        None::<&'static str>
    };
    ($tail:literal) => {
        Some($tail)
    };
}

/// Declares one direction's messages. Each entry is
///
/// ```text
/// /// What the message says (Rust docs, the Python docstring).
/// CONST_NAME = b'X' => Name(Family) { field: RustType [as Codec] [= "python default"], … }
///     [then "what follows the fields"],
/// ```
///
/// and generates `enum`, `CONST_NAME`s, `len(kind)`, `family(kind)`, `encode`, `decode`
/// (of the fields: a tail is the caller's to write and read), `enum::decode_with_tail`
/// and the `TABLE` of [`MessageDecl`]s.
#[macro_export]
macro_rules! declare_messages {
    (
        $(#[doc = $enum_doc:literal])*
        pub enum $enum:ident;
        table $table:ident, len $len:ident, family $family:ident,
        encode $encode:ident, decode $decode:ident;
        $(
            $(#[doc = $doc:literal])*
            $const:ident = $byte:literal => $variant:ident($fam:ident) {
                $($field:ident : $t:ty $(as $codec:ty)? $(= $default:literal)?),* $(,)?
            } $(then $tail:literal)?
        ),+ $(,)?
    ) => {
        $(pub const $const: u8 = $byte;)+

        $(#[doc = $enum_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $enum {
            $(
                $(#[doc = $doc])*
                $variant { $($field: $t),* },
            )+
        }

        /// Every message of this direction, as declared.
        pub const $table: &[$crate::declare::MessageDecl] = &[$(
            $crate::declare::MessageDecl {
                type_byte: $byte,
                name: stringify!($variant),
                family: $crate::declare::Family::$fam,
                doc: &[$($doc),*],
                fields: &[$(
                    $crate::declare::FieldDecl {
                        name: stringify!($field),
                        columns: <$crate::field_codec_of!($t $(, $codec)?)
                            as $crate::field_codec::FieldCodec<$t>>::COLUMNS,
                        default: $crate::declared_default!($($default)?),
                    }
                ),*],
                size: 1 $(+ <$crate::field_codec_of!($t $(, $codec)?)
                    as $crate::field_codec::FieldCodec<$t>>::SIZE)*,
                tail: $crate::declared_tail!($($tail)?),
            }
        ),+];

        /// Size of a message of this type (type byte included), or `None` for a type
        /// this direction does not declare.
        pub fn $len(kind: u8) -> Option<usize> {
            match kind {
                $($byte => Some(1 $(+ <$crate::field_codec_of!($t $(, $codec)?)
                    as $crate::field_codec::FieldCodec<$t>>::SIZE)*),)+
                _ => None,
            }
        }

        /// What a message of this type is for, or `None` for an undeclared type.
        pub fn $family(kind: u8) -> Option<$crate::declare::Family> {
            match kind {
                $($byte => Some($crate::declare::Family::$fam),)+
                _ => None,
            }
        }

        /// Appends the message: its type byte, then its fields in declared order.
        pub fn $encode(message: &$enum, buf: &mut Vec<u8>) {
            let mut w = $crate::wire::Writer::new(buf);
            match message {
                $($enum::$variant { $($field),* } => {
                    w.u8($byte);
                    $(<$crate::field_codec_of!($t $(, $codec)?)
                        as $crate::field_codec::FieldCodec<$t>>::write($field, &mut w);)*
                })+
            }
        }

        /// Decodes exactly one message occupying all of `body`: the length is checked
        /// against the type's size before any field is read.
        pub fn $decode(body: &[u8]) -> Result<$enum, $crate::error::DecodeError> {
            use $crate::error::DecodeError;
            let kind = *body.first().ok_or(DecodeError::Truncated)?;
            let size = $len(kind).ok_or(DecodeError::UnknownType)?;
            if body.len() < size {
                return Err(DecodeError::Truncated);
            }
            if body.len() > size {
                return Err(DecodeError::TrailingBytes);
            }
            let mut r = $crate::wire::Reader::new(&body[1..]);
            let message = match kind {
                $($byte => $enum::$variant {
                    $($field: <$crate::field_codec_of!($t $(, $codec)?)
                        as $crate::field_codec::FieldCodec<$t>>::read(&mut r)?),*
                },)+
                _ => return Err(DecodeError::UnknownType),
            };
            r.finish()?;
            Ok(message)
        }

        impl $enum {
            /// Decodes the fields at the start of `body` and returns the bytes after
            /// them: the tail of a message declared with one, else nothing (a longer
            /// body is refused as `decode` refuses it).
            pub fn decode_with_tail(
                body: &[u8],
            ) -> Result<($enum, &[u8]), $crate::error::DecodeError> {
                let kind = *body.first().ok_or($crate::error::DecodeError::Truncated)?;
                let size = $len(kind).ok_or($crate::error::DecodeError::UnknownType)?;
                let has_tail = match kind {
                    $($byte => $crate::declared_tail!($($tail)?).is_some(),)+
                    _ => false,
                };
                let fields_end = if has_tail { size.min(body.len()) } else { body.len() };
                let (fields, tail) = body.split_at(fields_end);
                Ok(($decode(fields)?, tail))
            }
        }
    };
}
