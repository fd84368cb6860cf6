//! Text for `kentro text`: reading documents, tokenising, and TF-IDF rows as a CSR matrix, the
//! way scikit-learn's `TfidfVectorizer(stop_words="english", sublinear_tf=True)` makes them.

pub mod corpus;
mod stop_words;
pub mod tfidf;
pub mod tokenize;
