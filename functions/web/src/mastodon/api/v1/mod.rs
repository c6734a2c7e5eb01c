pub mod accounts;
pub mod apps;
pub mod instance;
pub mod misc;
pub mod notifications;
pub mod petrel;
pub mod statuses;
pub mod timelines;
