"""What every service shares: settings, server start-up, logging, channels, Redis and blobs."""
