"""The edge agent: capture frames beside a camera, send the ones worth reading to ingest, and keep
them on disk while the link is down (`cardak edge`, `python -m edge`)."""
