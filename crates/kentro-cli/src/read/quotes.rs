//! Unclosed quotes in CSV files.
//!
//! The csv reader takes a quoted field that is never closed to run to the end of the file: the
//! rows after it vanish into one cell without an error. [`unclosed_quote`] finds such a field
//! the way the reader parses (a quote opens a field only as its first byte, `""` inside a quoted
//! field is a quote, comment lines are skipped), so the readers can refuse the file instead.

/// The message for a quoted field that is never closed, after the file name and line.
pub(crate) const UNCLOSED_QUOTE: &str = "a quoted field opens on this line and is never closed (a `\"` \
     without its closing `\"`; write a quote inside a quoted field as `\"\"`)";

/// The 1-based line on which a quoted field opens that is still open at the end of `bytes`, if
/// any. `\n`, `\r\n` and a lone `\r` each end one line.
pub(crate) fn unclosed_quote(bytes: &[u8], delimiter: u8, comment: Option<u8>) -> Option<u64> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        StartRecord,
        StartField,
        InField,
        Quoted,
        /// A quote inside a quoted field: it closes the field unless another quote follows.
        QuoteInQuoted,
        Comment,
    }
    let mut state = State::StartRecord;
    let mut line = 1u64;
    let mut opened = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        let is_line_end = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        state = match state {
            State::StartRecord if Some(b) == comment => State::Comment,
            State::StartRecord | State::StartField if b == b'"' => {
                opened = line;
                State::Quoted
            }
            State::Quoted => {
                if b == b'"' {
                    State::QuoteInQuoted
                } else {
                    State::Quoted
                }
            }
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::Comment => {
                if b == b'\n' || b == b'\r' {
                    State::StartRecord
                } else {
                    State::Comment
                }
            }
            _ if b == b'\n' || b == b'\r' => State::StartRecord,
            _ if b == delimiter => State::StartField,
            _ => State::InField,
        };
        if is_line_end {
            line += 1;
        }
    }
    (state == State::Quoted).then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::unclosed_quote;

    #[test]
    fn finds_the_line_where_an_unclosed_quote_opens() {
        assert_eq!(unclosed_quote(b"id,text\n1,hello\n2,\"foo bar\n3,baz\n", b',', None), Some(3));
        assert_eq!(unclosed_quote(b"a\r\nb\r\n\"c\r\n", b',', None), Some(3));
        assert_eq!(unclosed_quote(b"1,\"x\"\"\n", b',', None), Some(1));
    }

    #[test]
    fn accepts_closed_and_escaped_quotes_and_literal_ones() {
        assert_eq!(unclosed_quote(b"id,text\n1,\"a, \"\"b\"\"\nc\"\n2,x\n", b',', None), None);
        // A quote that does not start a field is a literal character.
        assert_eq!(unclosed_quote(b"1,it\"s\n2, \"x\n", b',', None), None);
        // Comment lines are skipped.
        assert_eq!(unclosed_quote(b"# it\"s\n1,2\n", b',', Some(b'#')), None);
        assert_eq!(unclosed_quote(b"#,\"x\n1,2\n", b',', Some(b'#')), None);
        assert_eq!(unclosed_quote(b"#,\"x\n1,2\n", b',', None), Some(1));
        assert_eq!(unclosed_quote(b"1\t\"a\"\t2\n", b'\t', None), None);
    }
}
