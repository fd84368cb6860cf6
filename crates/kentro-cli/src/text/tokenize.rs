//! Tokens as scikit-learn's default analyzer finds them: the text lowercased, then every maximal
//! run of word characters (Unicode letters and digits, and `_`) of at least two characters
//! (the token pattern `(?u)\b\w\w+\b`), English stop words left out.

use super::stop_words::is_stop_word;

/// The tokens of `text`, in order, stop words removed.
pub fn tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = 0usize;
    let mut flush = |current: &mut String, chars: &mut usize| {
        if *chars >= 2 && !is_stop_word(current) {
            out.push(std::mem::take(current));
        } else {
            current.clear();
        }
        *chars = 0;
    };
    for c in lower.chars() {
        if c.is_alphanumeric() || c == '_' {
            current.push(c);
            chars += 1;
        } else {
            flush(&mut current, &mut chars);
        }
    }
    flush(&mut current, &mut chars);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_two_or_more_characters_lowercased_without_stop_words() {
        assert_eq!(
            tokens("The Cat's 2 cats, x-ray_42 über-Größe!"),
            ["cat", "cats", "ray_42", "über", "größe"]
        );
        assert_eq!(tokens(""), Vec::<String>::new());
        assert_eq!(tokens("a I of the"), Vec::<String>::new());
        assert_eq!(tokens("naïve café 東京"), ["naïve", "café", "東京"]);
    }
}
