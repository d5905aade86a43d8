// Intentionally empty: libleakwatch.so is made of whole-archive module libraries.
