pub mod filters;
pub mod notifications;
pub mod search;
