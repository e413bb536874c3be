"""What a team receives on a schedule: the weekly digest, follow-up and scorecard nags,
initiative reminders, and the team channel each is sent to."""
