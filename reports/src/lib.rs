//! Renders analysis results (being written).
