"""Training-only code for the plate recogniser (synthetic data, fine-tuning). Not used at inference."""
