//! Scaled models: the scaler round-trips through the model file, predictions on a scaled model
//! equal predictions on manually scaled data, old (version 1) files still load, and profiles
//! equal the per-cluster means.

use kentro::datasets::Blobs;
use kentro::preprocessing::{ScaleMethod, Scaler};
use kentro::profile::ClusterProfiles;
use kentro::{KMeans, KMeansError};
use ndarray::{Array2, array};

/// Blobs with a second feature in much larger units, so that scaling changes the clustering.
fn data() -> Array2<f64> {
    let (mut x, _) = Blobs::new(300).centers(3).n_features(3).seed(4).generate().unwrap();
    x.column_mut(1).mapv_inplace(|v| 1000.0 * v + 5e4);
    x
}

/// scikit-learn's StandardScaler and MinMaxScaler, written out.
fn manual(method: ScaleMethod, x: &Array2<f64>) -> Array2<f64> {
    let n = x.nrows() as f64;
    let mut out = x.clone();
    for mut col in out.columns_mut() {
        let (offset, divisor) = match method {
            ScaleMethod::Standard => {
                let mean = col.sum() / n;
                let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                (mean, std)
            }
            _ => {
                let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi - lo)
            }
        };
        col.mapv_inplace(|v| (v - offset) / divisor);
    }
    out
}

#[test]
fn a_scaled_model_predicts_as_the_manually_scaled_data_does() {
    let x = data();
    for method in [ScaleMethod::Standard, ScaleMethod::MinMax] {
        let scaler = Scaler::fit(method, x.view()).unwrap();
        let by_hand = manual(method, &x);
        let scaled = scaler.transform(x.view()).unwrap();
        for (a, b) in scaled.iter().zip(&by_hand) {
            assert!((a - b).abs() <= 1e-12, "{method:?}: {a} vs {b}");
        }
        let plain = KMeans::params(3).seed(0).fit(scaled.view()).unwrap();
        let model = plain.clone().with_scaler(scaler).unwrap();
        // Raw data through the scaled model = scaled data through the plain one.
        assert_eq!(model.predict(x.view()).unwrap(), plain.predict(scaled.view()).unwrap());
        assert_eq!(model.transform(x.view()).unwrap(), plain.transform(scaled.view()).unwrap());
        assert_eq!(model.score(x.view(), None).unwrap(), plain.score(scaled.view(), None).unwrap());
        assert_eq!(model.predict(x.view()).unwrap(), plain.labels());

        // The file carries the scaler (version 2) and gives it back.
        let json = model.to_json();
        assert!(json.contains("\"version\":2") && json.contains("\"preprocessing\""), "{json}");
        let again = KMeans::<f64>::from_json(&json).unwrap();
        assert_eq!(again.scaler(), model.scaler());
        assert_eq!(again.predict(x.view()).unwrap(), model.predict(x.view()).unwrap());
        // Without a scaler a model is still written as version 1.
        assert!(plain.to_json().contains("\"version\":1") && !plain.to_json().contains("preprocessing"));
    }
}

#[test]
fn scaler_records_are_checked() {
    let x = data();
    let model = KMeans::params(2).seed(0).fit(x.view()).unwrap();
    let scaler = Scaler::fit(ScaleMethod::Standard, x.view()).unwrap();
    let json = model.clone().with_scaler(scaler).unwrap().to_json();
    // A preprocessing record in a version 1 file is refused, as is a bad divisor or method.
    let v1 = json.replace("\"version\":2", "\"version\":1");
    assert!(matches!(KMeans::<f64>::from_json(&v1), Err(KMeansError::Model(m)) if m.contains("version 2")));
    let start = json.find("\"divisor\":[").unwrap() + "\"divisor\":[".len();
    let bad = format!("{}0.0{}", &json[..start], &json[start + json[start..].find(',').unwrap()..]);
    assert!(matches!(KMeans::<f64>::from_json(&bad), Err(KMeansError::Model(_))), "{bad}");
    let unknown = json.replace("\"method\":\"standard\"", "\"method\":\"robust\"");
    assert!(matches!(KMeans::<f64>::from_json(&unknown), Err(KMeansError::Model(_))));
    // A scaler of another width does not attach.
    let narrow = Scaler::fit(ScaleMethod::MinMax, array![[1.0], [2.0]].view()).unwrap();
    assert!(matches!(model.with_scaler(narrow), Err(KMeansError::FeatureMismatch { .. })));
}

#[test]
fn profiles_are_the_per_cluster_means() {
    let x = data();
    let model = KMeans::params(3).seed(0).fit(x.view()).unwrap();
    let p = ClusterProfiles::new(x.view(), model.labels(), 3).unwrap();
    assert_eq!(p.sizes().iter().sum::<usize>(), 300);
    for c in 0..3 {
        let rows: Vec<usize> = (0..300).filter(|&i| model.labels()[i] == c).collect();
        assert_eq!(p.sizes()[c], rows.len());
        assert!((p.shares()[c] - rows.len() as f64 / 300.0).abs() < 1e-15);
        for j in 0..3 {
            let mean = rows.iter().map(|&i| x[[i, j]]).sum::<f64>() / rows.len() as f64;
            assert!((p.means()[[c, j]] - mean).abs() <= 1e-9 * mean.abs().max(1.0));
        }
    }
    assert!(matches!(ClusterProfiles::new(x.view(), &[0; 3], 3), Err(KMeansError::WeightLength { .. })));
}
