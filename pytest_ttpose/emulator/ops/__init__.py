"""ttnn operations on emulated devices."""
