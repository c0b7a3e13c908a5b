"""Front doors shaped like the reference libraries: lime's explanation objects (shap's shapes
are produced by the explainers' ``shap_values`` and :meth:`xai_fast.Explanation.to_shap`)."""
